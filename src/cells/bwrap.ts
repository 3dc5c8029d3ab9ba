import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  CgroupLimiter,
  installCgroupName,
  type CellLimitHandle,
  type LimitMechanism,
  type LimitsPlan,
} from './cgroup-limits.js';
import {
  RuntimeUnavailableError,
  TOOL_SERVER_CELL_PATH,
  TOOL_SERVER_IN_OWN_PID_NAMESPACE,
  type Cell,
  type CellRuntime,
  type CellSpec,
  type RuntimeStatus,
} from './cell-runtime.js';
import { ROOT_HOST_CELL_ID, ensureOwner, type CellUser } from './cell-user.js';
import { pidAlive } from './container-args.js';
import { deniedSyscalls, seccompArch, seccompFilterBytes } from './seccomp.js';
import { StdioCell } from './stdio-cell.js';

const EXTRA_MOUNT_ROOT = '/workspace/extra';
const TMP_BYTES = 256 * 1024 * 1024;
const HOME_BYTES = 64 * 1024 * 1024;

// The extra file descriptors bwrap is given, after stdin, stdout and stderr.
const FD_SECCOMP = 3;
const FD_INFO = 4;
const FD_BLOCK = 5;
const FD_FIRST_MOUNT = 6;

export interface BwrapOptions {
  /** Root filesystem the cell sees as `/` (read-only). */
  rootfs: string;
  startTimeoutMs?: number;
  bwrapPath?: string;
  /** Where limits come from; the default detects cgroups, else falls back to rlimits. */
  limiter?: CgroupLimiter;
  /** The install whose cells these are: their groups share its own parent (issue 17). */
  installId?: string;
  /** Run without the seccomp filter (only to compare, in tests). */
  seccomp?: boolean;
}

/**
 * Linux namespaces through bubblewrap: no daemon, a few ms to start. Every namespace is
 * unshared (no network but a private loopback), the root is the project's cell root
 * filesystem read-only, the process runs as a non-zero uid with no capabilities, under a
 * seccomp filter (seccomp.ts), in its own cgroup (cgroup-limits.ts).
 *
 * bwrap cells cannot be labelled, and need not be: `--die-with-parent` kills a cell when
 * the host process dies, however it dies, so no cell ever outlives it. Only its empty
 * cgroup can stay behind after a SIGKILL; removeOrphans clears those.
 */
export class BwrapRuntime implements CellRuntime {
  readonly name = 'bwrap';
  private readonly bwrap: string;
  private readonly limiter: CgroupLimiter;
  private plan: LimitsPlan | undefined;

  constructor(private readonly options: BwrapOptions) {
    this.bwrap = options.bwrapPath ?? 'bwrap';
    this.limiter =
      options.limiter ??
      new CgroupLimiter(
        options.installId !== undefined ? { parentName: installCgroupName(options.installId) } : {},
      );
  }

  /**
   * A root host starts bwrap as uid 10001, which bwrap maps to itself: files the cell writes
   * belong to 10001 (the group folder is handed to it, as with docker), and a cell that
   * escaped would be an unprivileged host user, never host root. Otherwise the cell runs as
   * the host user's own uid.
   */
  cellUser(): CellUser {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    return uid === 0
      ? {
          uid: ROOT_HOST_CELL_ID,
          gid: ROOT_HOST_CELL_ID,
          hostOwnerUid: ROOT_HOST_CELL_ID,
          hostOwnerGid: ROOT_HOST_CELL_ID,
        }
      : { uid, gid, hostOwnerUid: uid, hostOwnerGid: gid };
  }

  /** How limits are enforced here (cgroup v1/v2 or rlimits); detected once. */
  limitsPlan(): LimitsPlan {
    this.plan ??= this.limiter.plan();
    return this.plan;
  }

  async status(): Promise<RuntimeStatus> {
    const version = await runQuiet(this.bwrap, ['--version']);
    if (version.error) {
      return {
        ok: false,
        detail: 'bwrap not found: install it with `sudo apt-get install -y bubblewrap`',
      };
    }
    if (!fs.existsSync(`${this.options.rootfs}/usr/bin/node`)) {
      return {
        ok: false,
        detail: `cell root filesystem missing at ${this.options.rootfs}: run scripts/build-cell-image.sh --rootfs-only`,
      };
    }
    const probe = await this.probe();
    if (!probe.ok) {
      const hint = /unknown option|unrecognized option/i.test(probe.detail)
        ? 'bubblewrap 0.8 or later is needed (--disable-userns, --ro-bind-fd)'
        : 'user namespaces may be disabled: sysctl kernel.unprivileged_userns_clone=1';
      return {
        ok: false,
        detail: `bwrap cannot create a sandbox here: ${probe.detail} (${hint})`,
      };
    }
    this.plan = this.limiter.plan();
    const arch = seccompArch();
    const enforced = [
      'all namespaces unshared',
      'no network',
      'read-only root',
      'non-root, no capabilities',
      ...(arch && this.options.seccomp !== false
        ? [`seccomp (${deniedSyscalls(arch).length} syscalls refused)`]
        : []),
      ...this.plan.enforced.map((e) => `${e} limit`),
    ];
    const notEnforced = [
      ...(arch && this.options.seccomp !== false ? [] : ['seccomp']),
      ...this.plan.notEnforced.map((e) => `${e} limit`),
    ];
    return {
      ok: true,
      detail: `${version.stdout.trim()}; limits by ${describeMechanism(this.plan.mechanism)}${
        this.plan.mechanism === 'rlimit' ? ` (${this.plan.detail})` : ''
      }; no orphans possible (--die-with-parent)`,
      enforced,
      notEnforced,
    };
  }

  async start(spec: CellSpec, signal?: AbortSignal): Promise<Cell> {
    if (!fs.existsSync(`${this.options.rootfs}/usr/bin/node`)) {
      throw new RuntimeUnavailableError((await this.status()).detail);
    }
    const rootfs = spec.rootfs ?? this.options.rootfs;
    if (!fs.existsSync(`${rootfs}/usr/bin/node`)) {
      throw new RuntimeUnavailableError(
        `group ${spec.groupName}'s cell root filesystem is missing at ${rootfs}: run scripts/build-cell-image.sh`,
      );
    }
    const user = this.cellUser();
    for (const m of spec.mounts) {
      if (!m.readOnly) ensureOwner(m.hostPath, user.hostOwnerUid, user.hostOwnerGid);
    }
    const id = `nanocell-${spec.groupName}-${crypto.randomBytes(3).toString('hex')}`;
    const plan = this.limitsPlan();
    const cgroup = plan.mechanism !== 'rlimit';
    // The owner's pid leads the group's name: removeOrphans finds groups of dead owners.
    const limits = this.limiter.prepare(
      `${process.pid}-${id}`,
      spec.limits,
      plan,
      user.hostOwnerUid,
    );
    let sources: number[] = [];
    let child: ChildProcess | undefined;
    let startErr = '';
    try {
      sources = openSources(spec, rootfs);
      const args = this.sandboxArgs(spec, user, sources.length, cgroup);
      const [file, ...pre] = [...limits.wrapper, this.bwrap];
      child = spawn(file!, [...pre, ...args, '--', ...TOOL_SERVER_IN_OWN_PID_NAMESPACE], {
        // A clean environment: /proc/1/environ inside the cell shows what bwrap was given.
        env: spec.env,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', ...sources],
        ...(process.getuid?.() === 0 ? { uid: user.uid, gid: user.gid } : {}),
      });
      closeAll(sources);
      sources = [];
      const early = child;
      early.stderr?.on('data', (c: Buffer) => {
        startErr = (startErr + c.toString('utf8')).slice(-2000);
      });
      feedSeccomp(child, this.options.seccomp === false ? undefined : seccompFilterBytes());
      child.on('exit', () => {
        limits.release().catch(() => {
          // stop() awaits the same release and reports its failure.
        });
      });
      if (cgroup) await joinCgroup(child, limits);
      else unblock(child);
      return await StdioCell.attach(id, asStdio(child), {
        cleanup: () => limits.release(),
        limits: spec.limits,
        startTimeoutMs: this.options.startTimeoutMs ?? 15_000,
        signal,
        describeFailure: () => oomNote(limits, spec.limits.memoryMb),
      });
    } catch (caught) {
      closeAll(sources);
      let err = caught;
      // bwrap failing during set-up surfaces here as a lost pid or an early exit: wait for it
      // to finish and say what bwrap itself said, which is the useful part.
      if (child && child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000);
          child!.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      if (
        startErr.trim() &&
        !(err instanceof RuntimeUnavailableError && err.message.includes(startErr.trim()))
      ) {
        const hint = /source path .*Permission denied/.test(startErr)
          ? ` (the cell's user, uid ${user.uid}, must be able to traverse every folder above each mount: keep NANOCELL_HOME out of private folders such as /root; as root the default is /var/lib/nanocell)`
          : '';
        err = new RuntimeUnavailableError(
          `bwrap could not start the cell: ${startErr.trim()}${hint}`,
          { cause: caught },
        );
      }
      // A bwrap still waiting on --block-fd would wait forever.
      child?.kill('SIGKILL');
      await limits.release().catch((releaseErr: unknown) => {
        throw new RuntimeUnavailableError(
          `cell ${id} did not start, and its cgroup could not be removed: ${String(releaseErr)}`,
          { cause: err },
        );
      });
      if (err instanceof RuntimeUnavailableError) {
        const st = await this.status();
        throw st.ok ? err : new RuntimeUnavailableError(st.detail, { cause: err });
      }
      throw err;
    }
  }

  /** Every bwrap argument but the command; sources are the fds from openSources, in order. */
  private sandboxArgs(spec: CellSpec, user: CellUser, sourceCount: number, cgroup: boolean) {
    const fd = (i: number) => String(FD_FIRST_MOUNT + i);
    const args = [
      '--unshare-all',
      '--unshare-user',
      // Nested user namespaces are the door to most kernel attack surface; refused twice
      // (here and by the seccomp filter).
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--uid',
      String(user.uid),
      '--gid',
      String(user.gid),
      '--hostname',
      'cell',
      '--ro-bind-fd',
      fd(0),
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--size',
      String(TMP_BYTES),
      '--tmpfs',
      '/tmp',
      '--size',
      String(HOME_BYTES),
      '--tmpfs',
      '/home/cell',
    ];
    // Extra mounts need mount points the read-only root does not have: a tmpfs holds them,
    // made read-only again once they are bound.
    const extras = spec.mounts.some((m) => m.cellPath.startsWith(`${EXTRA_MOUNT_ROOT}/`));
    if (extras) args.push('--tmpfs', EXTRA_MOUNT_ROOT);
    spec.mounts.forEach((m, i) => {
      args.push(m.readOnly ? '--ro-bind-fd' : '--bind-fd', fd(i + 2), m.cellPath);
    });
    if (extras) args.push('--remount-ro', EXTRA_MOUNT_ROOT);
    const serverDir = path.posix.dirname(TOOL_SERVER_CELL_PATH);
    args.push('--tmpfs', serverDir, '--ro-bind-fd', fd(1), TOOL_SERVER_CELL_PATH);
    args.push('--remount-ro', serverDir);
    args.push('--chdir', spec.workdir);
    if (this.options.seccomp !== false && seccompArch()) args.push('--seccomp', String(FD_SECCOMP));
    if (cgroup) args.push('--info-fd', String(FD_INFO), '--block-fd', String(FD_BLOCK));
    if (sourceCount !== spec.mounts.length + 2) throw new Error('bwrap: mount sources out of step');
    return args;
  }

  /**
   * bwrap cells cannot outlive the host process (--die-with-parent), but a host killed with
   * SIGKILL leaves their empty cgroups behind: remove those. Returns how many.
   */
  removeOrphans(): number {
    return this.limiter.removeStale(pidAlive);
  }

  /** At shutdown: the install's parent groups go too once no cell is left in them. */
  async close(): Promise<void> {
    this.limiter.removeParents();
  }

  /** Start the exact sandbox a cell gets, running /bin/true; no cgroup, no mounts. */
  private async probe(): Promise<{ ok: boolean; detail: string }> {
    const spec: CellSpec = {
      groupName: 'probe',
      mounts: [],
      env: { PATH: '/usr/bin:/bin' },
      workdir: '/',
      toolServerPath: path.join(this.options.rootfs, 'usr', 'bin', 'node'),
      limits: { memoryMb: 256, pids: 16, cpus: 1, callTimeoutMs: 1000, maxOutputBytes: 1000 },
      network: { mode: 'none' },
    };
    let sources: number[] = [];
    try {
      sources = openSources(spec, this.options.rootfs);
      const args = this.sandboxArgs(spec, this.cellUser(), sources.length, false);
      const child = spawn(this.bwrap, [...args, '--', '/bin/true'], {
        env: spec.env,
        stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe', ...sources],
        ...(process.getuid?.() === 0 ? { uid: ROOT_HOST_CELL_ID, gid: ROOT_HOST_CELL_ID } : {}),
      });
      closeAll(sources);
      sources = [];
      feedSeccomp(child, this.options.seccomp === false ? undefined : seccompFilterBytes());
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await new Promise<number | null>((resolve) => {
        child.on('error', (e) => {
          stderr += e.message;
          resolve(-1);
        });
        child.on('close', (c) => resolve(c));
      });
      clearTimeout(timer);
      return code === 0
        ? { ok: true, detail: '' }
        : { ok: false, detail: stderr.trim() || `exit ${code}` };
    } catch (err) {
      closeAll(sources);
      return { ok: false, detail: (err as Error).message };
    }
  }
}

function describeMechanism(m: LimitMechanism): string {
  return m === 'rlimit' ? 'rlimits' : m;
}

/**
 * Open every bind source on the host, refusing symlinks: bwrap then binds exactly what was
 * validated (no second path lookup that a planted link could redirect). bwrap 0.8 still
 * resolves /proc/self/fd/N as the cell's uid, so that uid must be able to traverse the folders
 * above each source: the data dir is 0711 and, as root, lives in /var/lib/nanocell. Order: the
 * root filesystem, the tool server, then the mounts.
 */
function openSources(spec: CellSpec, rootfs: string): number[] {
  // The root filesystem is the owner's (configured, never writable by a cell) and may be a
  // link to a shared build; everything else is opened exactly as given.
  const paths = [realRoot(rootfs), spec.toolServerPath, ...spec.mounts.map((m) => m.hostPath)];
  const fds: number[] = [];
  try {
    for (const p of paths) {
      fds.push(fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW));
    }
  } catch (err) {
    closeAll(fds);
    const e = err as NodeJS.ErrnoException;
    throw new RuntimeUnavailableError(
      e.code === 'ELOOP'
        ? `refusing to mount ${e.path ?? 'a path'}: it is a symbolic link`
        : `cannot open ${e.path ?? 'a mount source'} for the cell: ${e.message}`,
      { cause: err },
    );
  }
  return fds;
}

function realRoot(rootfs: string): string {
  try {
    return fs.realpathSync(rootfs);
  } catch {
    return rootfs; // Missing: the open below says so.
  }
}

function closeAll(fds: number[]): void {
  for (const fd of fds) fs.closeSync(fd);
}

function feedSeccomp(child: ChildProcess, filter: Buffer | undefined): void {
  const stream = extraStream(child, FD_SECCOMP) as Writable | undefined;
  stream?.on('error', () => {
    // bwrap gone before reading its filter: reported through its exit.
  });
  stream?.end(filter ?? Buffer.alloc(0));
}

function unblock(child: ChildProcess): void {
  const stream = extraStream(child, FD_BLOCK) as Writable | undefined;
  stream?.on('error', () => {
    // Nothing waits on it without --block-fd.
  });
  stream?.end();
}

/**
 * bwrap writes the sandbox's pid to --info-fd, then waits on --block-fd before running
 * anything: both bwrap processes go into the cell's cgroup while nothing else exists yet, so
 * every process the cell ever makes is born inside it.
 */
async function joinCgroup(child: ChildProcess, limits: CellLimitHandle): Promise<void> {
  const info = extraStream(child, FD_INFO) as Readable | undefined;
  const text = await new Promise<string>((resolve, reject) => {
    let data = '';
    const onExit = () =>
      reject(new RuntimeUnavailableError(`bwrap exited before it started the cell`));
    child.once('exit', onExit);
    child.once('error', (e) =>
      reject(new RuntimeUnavailableError(`cannot start bwrap: ${e.message}`, { cause: e })),
    );
    info?.on('data', (c: Buffer) => {
      data += c.toString();
      try {
        JSON.parse(data);
        child.off('exit', onExit);
        resolve(data);
      } catch {
        // Not all of it yet.
      }
    });
  });
  const sandboxPid = Number((JSON.parse(text) as { 'child-pid'?: number })['child-pid']);
  if (!child.pid || !Number.isInteger(sandboxPid)) {
    throw new RuntimeUnavailableError(`bwrap reported no sandbox pid: ${text.slice(0, 200)}`);
  }
  limits.attach([child.pid, sandboxPid]);
  const block = extraStream(child, FD_BLOCK) as Writable;
  block.on('error', () => {
    // bwrap died between the two steps: its exit is reported by attach().
  });
  block.end('go');
}

function oomNote(limits: CellLimitHandle, memoryMb: number): string | undefined {
  const kills = limits.oomKills();
  return kills > 0
    ? `[the cell's memory limit (${memoryMb} MB) killed ${kills} process${kills === 1 ? '' : 'es'} so far]`
    : undefined;
}

function extraStream(child: ChildProcess, fd: number): Readable | Writable | undefined {
  return (child.stdio as ReadonlyArray<Readable | Writable | null | undefined>)[fd] ?? undefined;
}

/** StdioCell wants the three standard pipes; the extra fds stay with the runtime. */
function asStdio(child: ChildProcess) {
  return child as Parameters<typeof StdioCell.attach>[1];
}

async function runQuiet(file: string, args: string[]): Promise<{ stdout: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('error', (error) => resolve({ stdout, error }));
    child.on('close', () => resolve({ stdout }));
  });
}
