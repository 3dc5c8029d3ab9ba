import fs from 'node:fs';
import path from 'node:path';

/**
 * Memory, pids and CPU limits for cells that no container engine manages (bwrap): one control
 * group per cell, created before the cell runs anything and removed when it stops.
 *
 * - cgroup v1 (one hierarchy per controller): the cell's group is nested under this process's
 *   own group in each hierarchy, so whatever limits the host process itself has (a systemd
 *   service, a CI job) still cover its cells.
 * - cgroup v2 (one unified hierarchy): `<root>/nanocell-<install>/<cell>`, with the controllers enabled
 *   on the way down. A v2 group with processes in it cannot hand controllers to children, so
 *   the cells cannot live under this process's own group.
 * - neither writable (not root, nothing delegated): rlimits through `prlimit` instead, which
 *   are weaker (per process, not per cell; see RLIMIT_NOTE) and say so in `status()`.
 */

export type LimitMechanism = 'cgroup-v1' | 'cgroup-v2' | 'rlimit';

export interface CellResourceLimits {
  memoryMb: number;
  pids: number;
  cpus: number;
}

/** What a runtime can promise about limits on this host: the line `status()` and doctor show. */
export interface LimitsPlan {
  mechanism: LimitMechanism;
  enforced: string[];
  notEnforced: string[];
  detail: string;
}

/** The limits of one cell, between its spawn and its end. */
export interface CellLimitHandle {
  /** Command prefix that applies the limits before the sandbox starts (rlimit only). */
  readonly wrapper: string[];
  /** Put processes in the cell's group. Call before the cell runs anything of its own. */
  attach(pids: number[]): void;
  /** How many processes the memory limit has killed so far (0 when unknown). */
  oomKills(): number;
  /** Kill whatever is left in the group and remove it. Safe to call twice. */
  release(): Promise<void>;
}

export class CgroupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CgroupError';
  }
}

export interface CgroupLimiterOptions {
  /** Where cgroupfs is mounted; a temp dir in tests. */
  root?: string;
  /** Contents of /proc/self/cgroup (this process's groups). */
  selfCgroup?: string;
  /** Use this mechanism instead of detecting one (tests, or an owner who wants rlimits). */
  force?: LimitMechanism;
  /** The prlimit binary, for the rlimit fallback. */
  prlimitPath?: string;
  /** Count of processes the cell's host uid already has (RLIMIT_NPROC is per uid). */
  countProcessesOf?: (uid: number) => number;
  /**
   * The parent group the cells' groups go in: one per install (installCgroupName), so the
   * cells of one install compete as one against the host and other installs. Default `nanocell`.
   */
  parentName?: string;
}

/** An install's own cgroup parent name (bwrap's groups; container cells add `.slice`). */
export function installCgroupName(installId: string): string {
  return `nanocell-${installId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

const V1_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
type Controller = (typeof V1_CONTROLLERS)[number];
const CPU_PERIOD_US = 100_000;
const GROUP_NAME = 'nanocell';
/** Node (the tool server) needs this much address space just to start. */
export const MIN_ADDRESS_SPACE_MB = 1024;
const RELEASE_WAIT_MS = 3000;

export const RLIMIT_NOTE =
  'rlimits only: RLIMIT_NPROC counts every process of the cell uid, RLIMIT_AS is per process (at least 1 GiB for node), no CPU cap';

export class CgroupLimiter {
  private readonly root: string;
  private readonly parentName: string;
  /** Parent groups this limiter made or used, removed by removeParents() when empty. */
  private readonly parents = new Set<string>();

  constructor(private readonly options: CgroupLimiterOptions = {}) {
    this.root = options.root ?? '/sys/fs/cgroup';
    this.parentName = options.parentName ?? GROUP_NAME;
  }

  /** Detect what can be enforced here, by trying to create (and remove) a probe group. */
  plan(): LimitsPlan {
    const forced = this.options.force;
    if (forced === 'rlimit') return rlimitPlan('rlimits forced by configuration');
    const version = forced ?? this.detectVersion();
    if (!version) return rlimitPlan(`no cgroup hierarchy found at ${this.root}`);
    try {
      const dirs = this.parentDirs(version);
      const probe = this.createGroup(dirs, `${process.pid}-probe`, version);
      removeDirs(Object.values(probe));
      const enforced = Object.keys(dirs).map((c) => limitName(c as Controller));
      const notEnforced = V1_CONTROLLERS.filter((c) => !(c in dirs)).map(limitName);
      const where = [...new Set(Object.values(dirs))].join(', ');
      return {
        mechanism: version,
        enforced,
        notEnforced,
        detail: `${version} groups under ${where}`,
      };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return rlimitPlan(
        `cannot create ${version} groups (${reason}): run as root or delegate a cgroup`,
      );
    }
  }

  /** The limits for one cell, following `plan` (pass the plan `status()` reported). */
  prepare(
    cellId: string,
    limits: CellResourceLimits,
    plan: LimitsPlan,
    hostUid: number,
  ): CellLimitHandle {
    if (plan.mechanism === 'rlimit') return this.rlimitHandle(limits, hostUid);
    const version = plan.mechanism;
    const dirs = this.parentDirs(version);
    const group = this.createGroup(dirs, cellId, version);
    try {
      writeLimits(group, limits, version);
    } catch (err) {
      removeDirs(Object.values(group));
      throw new CgroupError(`cannot set the limits of cell ${cellId}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return new CgroupHandle(group, version);
  }

  /**
   * Remove cell groups whose owning process is gone (it was killed before it could clean
   * up; its cells died with it). Group names start with the owner's pid. Returns how many.
   */
  removeStale(isAlive: (pid: number) => boolean): number {
    const plan = this.plan();
    if (plan.mechanism === 'rlimit') return 0;
    // One cell has a group in each hierarchy: count cells, not directories.
    const removed = new Set<string>();
    for (const parent of new Set(Object.values(this.parentDirs(plan.mechanism)))) {
      for (const name of fs.readdirSync(parent, { withFileTypes: true })) {
        const owner = /^(\d+)-/.exec(name.name)?.[1];
        if (!name.isDirectory() || !owner || isAlive(Number(owner))) continue;
        const dir = path.join(parent, name.name);
        for (const pid of readPids(dir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        try {
          removeDirs([dir]);
          removed.add(name.name);
        } catch {
          // Still busy (a process on its way out): the next start-up removes it.
        }
      }
    }
    return removed.size;
  }

  private detectVersion(): 'cgroup-v1' | 'cgroup-v2' | undefined {
    if (fs.existsSync(path.join(this.root, 'cgroup.controllers'))) return 'cgroup-v2';
    if (V1_CONTROLLERS.some((c) => fs.existsSync(path.join(this.root, c, 'cgroup.procs')))) {
      return 'cgroup-v1';
    }
    return undefined;
  }

  /** Removes the parent groups once empty (a group with cells in it stays). */
  removeParents(): void {
    for (const dir of this.parents) {
      try {
        fs.rmdirSync(dir);
        this.parents.delete(dir);
      } catch {
        // Busy (a cell of this install is still there) or gone already.
      }
    }
  }

  /** Per controller, the directory the cells' groups go in (created if needed). */
  private parentDirs(version: 'cgroup-v1' | 'cgroup-v2'): Partial<Record<Controller, string>> {
    const dirs = this.findParentDirs(version);
    for (const dir of Object.values(dirs)) this.parents.add(dir);
    return dirs;
  }

  private findParentDirs(version: 'cgroup-v1' | 'cgroup-v2'): Partial<Record<Controller, string>> {
    const dirs: Partial<Record<Controller, string>> = {};
    if (version === 'cgroup-v2') {
      const available = readWords(path.join(this.root, 'cgroup.controllers'));
      const parent = path.join(this.root, this.parentName);
      fs.mkdirSync(parent, { recursive: true });
      const wanted = V1_CONTROLLERS.filter((c) => available.includes(c));
      const enable = wanted.map((c) => `+${c}`).join(' ');
      if (enable) {
        fs.writeFileSync(path.join(this.root, 'cgroup.subtree_control'), enable);
        fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), enable);
      }
      for (const c of wanted) dirs[c] = parent;
      return dirs;
    }
    const own = ownV1Paths(this.options.selfCgroup ?? readSelfCgroup());
    for (const c of V1_CONTROLLERS) {
      const mount = path.join(this.root, c);
      if (!fs.existsSync(path.join(mount, 'cgroup.procs'))) continue;
      const parent = path.join(mount, own.get(c) ?? '/', this.parentName);
      fs.mkdirSync(parent, { recursive: true });
      dirs[c] = parent;
    }
    if (Object.keys(dirs).length === 0) throw new CgroupError('no memory, pids or cpu hierarchy');
    return dirs;
  }

  private createGroup(
    parents: Partial<Record<Controller, string>>,
    name: string,
    version: 'cgroup-v1' | 'cgroup-v2',
  ): Partial<Record<Controller, string>> {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new CgroupError(`bad cgroup name: ${name}`);
    const group: Partial<Record<Controller, string>> = {};
    const made: string[] = [];
    try {
      for (const [c, parent] of Object.entries(parents) as Array<[Controller, string]>) {
        const dir = path.join(parent, name);
        if (!made.includes(dir)) {
          fs.mkdirSync(dir);
          made.push(dir);
        }
        group[c] = dir;
      }
    } catch (err) {
      removeDirs(made);
      throw new CgroupError(`cannot create ${version} group ${name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return group;
  }

  private rlimitHandle(limits: CellResourceLimits, hostUid: number): CellLimitHandle {
    const already = this.options.countProcessesOf?.(hostUid) ?? countProcessesOf(hostUid);
    const addressSpaceMb = Math.max(limits.memoryMb, MIN_ADDRESS_SPACE_MB);
    const bytes = addressSpaceMb * 1024 * 1024;
    const nproc = already + limits.pids;
    return {
      wrapper: [
        this.options.prlimitPath ?? 'prlimit',
        `--nproc=${nproc}:${nproc}`,
        `--as=${bytes}:${bytes}`,
        '--',
      ],
      attach: () => {},
      oomKills: () => 0,
      release: async () => {},
    };
  }
}

class CgroupHandle implements CellLimitHandle {
  readonly wrapper: string[] = [];
  private released = false;

  constructor(
    private readonly group: Partial<Record<Controller, string>>,
    private readonly version: 'cgroup-v1' | 'cgroup-v2',
  ) {}

  attach(pids: number[]): void {
    for (const dir of new Set(Object.values(this.group))) {
      for (const pid of pids) {
        // One pid per write: cgroup.procs takes a single pid.
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      }
    }
  }

  oomKills(): number {
    const file =
      this.version === 'cgroup-v2'
        ? this.group.memory && path.join(this.group.memory, 'memory.events')
        : this.group.memory && path.join(this.group.memory, 'memory.oom_control');
    if (!file) return 0;
    try {
      const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(file, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0; // The group is gone: nothing more was killed.
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const dirs = [...new Set(Object.values(this.group))];
    const deadline = Date.now() + RELEASE_WAIT_MS;
    for (;;) {
      const left = dirs.flatMap((d) => readPids(d));
      if (left.length === 0) break;
      if (Date.now() > deadline) {
        throw new CgroupError(`processes ${left.join(', ')} outlived their cell in ${dirs[0]}`);
      }
      const kill = dirs.map((d) => path.join(d, 'cgroup.kill')).find((f) => fs.existsSync(f));
      if (kill) fs.writeFileSync(kill, '1');
      else {
        for (const pid of left) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // ESRCH: already gone between the read and the kill.
          }
        }
      }
      // Killed processes leave the group asynchronously; a short wait between checks.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    removeDirs(dirs);
  }
}

function writeLimits(
  group: Partial<Record<Controller, string>>,
  limits: CellResourceLimits,
  version: 'cgroup-v1' | 'cgroup-v2',
): void {
  const bytes = String(limits.memoryMb * 1024 * 1024);
  const quota = String(Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US)));
  const write = (dir: string | undefined, file: string, value: string, optional = false) => {
    if (!dir) return;
    const p = path.join(dir, file);
    if (optional && !fs.existsSync(p)) return;
    fs.writeFileSync(p, value);
  };
  if (version === 'cgroup-v2') {
    write(group.memory, 'memory.max', bytes);
    // No swap: a cell over its memory is killed, not paged out to slow the host down.
    write(group.memory, 'memory.swap.max', '0', true);
    write(group.pids, 'pids.max', String(limits.pids));
    write(group.cpu, 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
    return;
  }
  write(group.memory, 'memory.limit_in_bytes', bytes);
  write(group.memory, 'memory.memsw.limit_in_bytes', bytes, true);
  write(group.pids, 'pids.max', String(limits.pids));
  write(group.cpu, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
  write(group.cpu, 'cpu.cfs_quota_us', quota);
}

function limitName(c: Controller): string {
  return c === 'memory' ? 'memory' : c === 'pids' ? 'pids' : 'cpu';
}

function rlimitPlan(why: string): LimitsPlan {
  return {
    mechanism: 'rlimit',
    enforced: ['pids (RLIMIT_NPROC)', 'memory (RLIMIT_AS, per process)'],
    notEnforced: ['cpu', 'memory per cell'],
    detail: `${why}; ${RLIMIT_NOTE}`,
  };
}

/** controller -> this process's group path, from /proc/self/cgroup ("4:memory:/a/b"). */
export function ownV1Paths(selfCgroup: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of selfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m || !m[1]) continue;
    for (const c of m[1].split(',')) paths.set(c, m[2] || '/');
  }
  return paths;
}

function readSelfCgroup(): string {
  try {
    return fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return '';
  }
}

function readWords(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

function readPids(dir: string): number[] {
  try {
    return fs
      .readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function removeDirs(dirs: string[]): void {
  // Deepest first; a cgroup directory is removed with rmdir even though it lists files.
  for (const d of [...new Set(dirs)].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code === 'ENOTEMPTY') {
        // A fake (tests) or a half-made group: its files are ordinary files.
        fs.rmSync(d, { recursive: true, force: true });
        continue;
      }
      throw new CgroupError(`cannot remove cgroup ${d}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** How many processes `uid` has right now (RLIMIT_NPROC counts them all). */
export function countProcessesOf(uid: number): number {
  let n = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.statSync(`/proc/${entry}`).uid === uid) n++;
    } catch {
      // The process ended while we looked.
    }
  }
  return n;
}
