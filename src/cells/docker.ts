import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import {
  RuntimeUnavailableError,
  type Cell,
  type CellRuntime,
  type CellSpec,
  type RuntimeStatus,
} from './cell-runtime.js';
import { defaultCellUser, ensureOwner, type CellUser } from './cell-user.js';
import {
  LABEL_OWNER_PID,
  type ContainerRunOptions,
  cellCgroupParent,
  cellName,
  containerRunArgs,
  removeContainer,
  removeOrphanContainers,
} from './container-args.js';
import { NetnsHolders } from './netns-holders.js';
import { run } from './run-cli.js';
import { writeSeccompProfile } from './seccomp-profile.js';
import { attachOrExplain, type CellProcess } from './stdio-cell.js';
import { ToolSocket } from './tool-socket.js';

export interface DockerOptions {
  image: string;
  /** Every cell carries this label, so orphans of this install can be found and removed. */
  installId: string;
  startTimeoutMs?: number;
  dockerPath?: string;
  /**
   * Cells join network-less namespace holders (netns-holders.ts); default false. Whoever
   * turns it on calls close() when done, or the holders live on until the next removeOrphans.
   */
  shareNetns?: boolean;
}

/** A container cell named and argued for, not yet asked of the engine (DockerRuntime.prepareCell). */
export interface PreparedCell {
  name: string;
  /** The engine's `run` arguments, `run` first. */
  args: string[];
  toolSocket: ToolSocket | undefined;
  /** Remove the container, its tool socket and its hold on a namespace holder; `broken` if it never started. */
  remove: (broken: boolean) => Promise<void>;
}

/** What `docker info` says about the daemon, in one call. */
interface DaemonInfo {
  version: string;
  seccomp: boolean;
  runtimes: Record<string, { path?: string; runtimeArgs?: string[] }>;
  memoryLimit: boolean;
  swapLimit: boolean;
  pidsLimit: boolean;
  cpuQuota: boolean;
}

const INFO_FORMAT =
  '{{.ServerVersion}}|{{json .SecurityOptions}}|{{json .Runtimes}}|{{.MemoryLimit}}|{{.SwapLimit}}|{{.PidsLimit}}|{{.CPUCfsQuota}}';

/**
 * Docker containers from the project's own image: `docker run` with the tool server on a unix
 * socket of the host's (tool-socket.ts) and the flags of container-args.ts, our seccomp
 * profile among them.
 */
export class DockerRuntime implements CellRuntime {
  readonly name: string = 'docker';
  protected readonly docker: string;
  /** Written once, at the first start (seccomp-profile.ts). */
  private seccompProfile: string | undefined;
  private holders: NetnsHolders | undefined;

  constructor(protected readonly options: DockerOptions) {
    this.docker = options.dockerPath ?? 'docker';
  }

  /**
   * Whether the tool server talks to the host over a unix socket (tool-socket.ts) rather than
   * the engine's stdio attach, which costs several process hops per frame. gVisor's sandbox
   * cannot connect to a host unix socket (without extra runsc flags), so it keeps stdio.
   */
  protected usesToolSocket(): boolean {
    return true;
  }

  /** Whether cells may join a namespace holder; gVisor's sandbox makes its own network stack. */
  protected sharesNetns(): boolean {
    return this.options.shareNetns === true;
  }

  private netnsHolders(): NetnsHolders | undefined {
    if (!this.sharesNetns()) return undefined;
    this.holders ??= new NetnsHolders({
      engine: this.docker,
      image: this.options.image,
      installId: this.options.installId,
      user: () => this.cellUser(),
      engineArgs: () => this.holderArgs(),
    });
    return this.holders;
  }

  /** The install's cgroup parent for its cells; undefined where the engine cannot take one. */
  protected cgroupParent(): string | undefined {
    return cellCgroupParent(this.options.installId);
  }

  /** Engine flags a namespace holder takes besides the common ones. */
  protected holderArgs(): string[] {
    return [];
  }

  /** The container's user is the host user, or uid 10001 when the host runs as root. */
  cellUser(): CellUser {
    return defaultCellUser();
  }

  /** Flags this engine adds to `docker run`, and how it differs in limits and tmpfs. */
  /** Who serves the cell's syscalls behind our seccomp profile (gVisor overrides it). */
  protected seccompKernel(): 'host' | 'gvisor' {
    return 'host';
  }

  protected engineOptions(
    _spec: CellSpec,
  ): Pick<ContainerRunOptions, 'engineArgs' | 'hostPidsLimit' | 'tmpfsOwnerOptions'> {
    return {};
  }

  /** What the daemon must offer beyond plain docker; a problem, or undefined when fine. */
  protected checkDaemon(_info: DaemonInfo): string | undefined {
    return undefined;
  }

  protected describe(info: DaemonInfo): {
    detail: string;
    enforced: string[];
    notEnforced: string[];
  } {
    const { enforced, notEnforced } = containerEnforcement(info);
    return {
      detail: `docker ${info.version}, image ${this.options.image}`,
      enforced: [...enforced, ...(info.seccomp ? [SECCOMP_ENFORCED] : [])],
      notEnforced: [...notEnforced, ...(info.seccomp ? [] : ['seccomp'])],
    };
  }

  async status(): Promise<RuntimeStatus> {
    const info = await run(this.docker, ['info', '--format', INFO_FORMAT]);
    if (info.notFound) {
      return {
        ok: false,
        detail: 'docker not found: install it with `sudo apt-get install -y docker.io`',
      };
    }
    if (info.code !== 0) {
      const why = (info.stderr || '').trim().split('\n')[0];
      return {
        ok: false,
        detail: `the docker daemon is not reachable (${why}): start it with \`sudo systemctl start docker\` or \`sudo dockerd &\``,
      };
    }
    const daemon = parseInfo(info.stdout);
    const problem = this.checkDaemon(daemon);
    if (problem) return { ok: false, detail: problem };
    const image = await run(this.docker, [
      'image',
      'inspect',
      '--format',
      '{{.Id}}',
      this.options.image,
    ]);
    if (image.code !== 0) {
      return {
        ok: false,
        detail: `docker ${daemon.version} is up but the cell image ${this.options.image} is missing: run scripts/build-cell-image.sh`,
      };
    }
    const { detail, enforced, notEnforced } = this.describe(daemon);
    return { ok: true, detail, enforced, notEnforced };
  }

  async start(spec: CellSpec, signal?: AbortSignal): Promise<Cell> {
    const prepared = await this.prepareCell(spec);
    const child = spawn(this.docker, prepared.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    return this.attachCell(prepared, child, spec, signal);
  }

  /**
   * Everything a container cell needs before the engine is asked for it: its name, its
   * namespace holder, its tool socket, and the engine's `run` arguments.
   */
  protected async prepareCell(spec: CellSpec): Promise<PreparedCell> {
    const user = this.cellUser();
    for (const m of spec.mounts) {
      if (!m.readOnly) ensureOwner(m.hostPath, user.hostOwnerUid, user.hostOwnerGid);
    }
    const name = cellName(spec.groupName, crypto.randomBytes(3).toString('hex'));
    const holders = this.netnsHolders();
    const holder = holders?.take(spec.groupName, name);
    const cgroupParent = this.cgroupParent();
    let toolSocket: ToolSocket | undefined;
    try {
      toolSocket = this.usesToolSocket()
        ? await ToolSocket.listen({ uid: user.hostOwnerUid, gid: user.hostOwnerGid })
        : undefined;
    } catch (err) {
      holders?.release(name, true);
      throw new RuntimeUnavailableError(
        `cannot open the tool socket for cell ${name} in ${os.tmpdir()}: ${(err as Error).message}; check that the temporary directory is writable`,
        { cause: err },
      );
    }
    let args: string[];
    try {
      args = containerRunArgs({
        ...(toolSocket ? { toolSocketDir: toolSocket.dir } : {}),
        ...(holder ? { network: `container:${holder}` } : {}),
        ...(cgroupParent ? { cgroupParent } : {}),
        name,
        image: spec.image ?? this.options.image,
        installId: this.options.installId,
        user,
        spec,
        seccompProfile: (this.seccompProfile ??= writeSeccompProfile(
          process.arch,
          undefined,
          this.seccompKernel(),
        )),
        ...this.engineOptions(spec),
      });
    } catch (err) {
      toolSocket?.close();
      holders?.release(name, true);
      throw err;
    }
    return {
      name,
      args,
      toolSocket,
      remove: async (broken) => {
        await removeContainer(this.docker, name);
        toolSocket?.close();
        // A holder whose cell never started may be gone itself: made anew rather than reused.
        holders?.release(name, broken);
      },
    };
  }

  /** Wait for a started container's tool server to be ready; on failure remove it all. */
  protected async attachCell(
    prepared: PreparedCell,
    child: CellProcess,
    spec: CellSpec,
    signal?: AbortSignal,
  ): Promise<Cell> {
    let started = false;
    const cell = await attachOrExplain(prepared.name, child, {
      remove: () => prepared.remove(!started),
      limits: spec.limits,
      startTimeoutMs: this.options.startTimeoutMs ?? 60_000,
      signal,
      status: () => this.status(),
      toolSocket: prepared.toolSocket,
    });
    started = true;
    this.findMemoryPid(cell, prepared.name);
    return cell;
  }

  /**
   * The container's first process on this host, for the dashboard's memory reading: asked of
   * the engine in the background, never delaying the start; left unset where it is not local.
   */
  private findMemoryPid(cell: { memoryPid: number | undefined }, name: string): void {
    void run(this.docker, ['inspect', '--format', '{{.State.Pid}}', name]).then((r) => {
      const pid = Number(r.stdout.trim());
      if (r.code === 0 && Number.isInteger(pid) && pid > 0) cell.memoryPid = pid;
    });
  }

  protected removeStaleToolSockets(): void {
    if (this.usesToolSocket()) ToolSocket.removeStale();
  }

  async close(): Promise<void> {
    await this.holders?.close();
  }

  /**
   * Remove containers this install left behind (a crash, a kill -9) whose owner is gone, and
   * the tool socket directories of host processes that are gone.
   */
  removeOrphans(): number {
    this.removeStaleToolSockets();
    return removeOrphanContainers(
      this.docker,
      this.options.installId,
      `{{.ID}} {{.Label "${LABEL_OWNER_PID}"}}`,
    );
  }
}

/** How `doctor` names the seccomp profile container cells run under. */
export const SECCOMP_ENFORCED =
  'seccomp (nanocell profile: the syscalls and socket families bwrap refuses)';

/** What the container flags give, minus what this daemon cannot enforce. */
export function containerEnforcement(info: {
  memoryLimit: boolean;
  swapLimit: boolean;
  pidsLimit: boolean;
  cpuQuota: boolean;
}): { enforced: string[]; notEnforced: string[] } {
  const enforced = [
    'no network',
    'read-only root',
    'non-root, no capabilities',
    'no new privileges',
    'private PID and IPC namespaces',
  ];
  const notEnforced: string[] = [];
  for (const [ok, what] of [
    [info.memoryLimit, 'memory limit'],
    [info.swapLimit, 'no swap'],
    [info.pidsLimit, 'pids limit'],
    [info.cpuQuota, 'cpu limit'],
  ] as const) {
    (ok ? enforced : notEnforced).push(what);
  }
  return { enforced, notEnforced };
}

function parseInfo(out: string): DaemonInfo {
  const [version = '?', security = '[]', runtimes = '{}', mem, swap, pids, cpu] = out
    .trim()
    .split('|');
  const json = <T>(text: string, fallback: T): T => {
    try {
      return (JSON.parse(text) as T) ?? fallback;
    } catch {
      return fallback; // An older daemon without the field: treat it as absent.
    }
  };
  return {
    version,
    seccomp: json<string[]>(security, []).some((o) => o.includes('name=seccomp')),
    runtimes: json(runtimes, {}),
    memoryLimit: mem === 'true',
    swapLimit: swap === 'true',
    pidsLimit: pids === 'true',
    cpuQuota: cpu === 'true',
  };
}

export type { DaemonInfo };
