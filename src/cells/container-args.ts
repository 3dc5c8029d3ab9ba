import { spawn, spawnSync } from 'node:child_process';
import {
  TOOL_SERVER_CELL_PATH,
  TOOL_SERVER_IN_OWN_PID_NAMESPACE,
  type CellSpec,
} from './cell-runtime.js';
import type { CellUser } from './cell-user.js';
import { installCgroupName } from './cgroup-limits.js';
import { CELL_TOOL_SOCKET_DIR, CELL_TOOL_SOCKET_PATH, TOOL_SOCKET_ENV } from './tool-socket.js';

/** Labels every container cell carries, so orphans of an install can be found. */
export const LABEL_INSTALL = 'nanocell.install';
export const LABEL_GROUP = 'nanocell.group';
/** The host process that owns the cell: a cell whose owner is gone is an orphan. */
export const LABEL_OWNER_PID = 'nanocell.owner-pid';

export interface ContainerRunOptions {
  name: string;
  image: string;
  installId: string;
  user: CellUser;
  spec: CellSpec;
  /** Our seccomp profile (seccomp-profile.ts), in place of the engine's default. */
  seccompProfile: string;
  /** Engine-specific flags (podman's OCI runtime and ulimits, gVisor's runtime). */
  engineArgs?: string[];
  /**
   * The host pids cgroup limit, when it must differ from the cell's pids limit (gVisor's own
   * threads and stub processes count there; its kernel enforces the cell's limit inside).
   */
  hostPidsLimit?: number;
  /**
   * Whether the engine's --tmpfs takes uid=/gid=. Podman's does not (nor mode=): its `U`
   * option hands the tmpfs to the container's user instead.
   */
  tmpfsOwnerOptions?: boolean;
  /** `container:HOLDER` to join a namespace holder's (netns-holders.ts); default `none`. */
  network?: string;
  /** The install's own cgroup parent (cellCgroupParent), so its cells compete as one. */
  cgroupParent?: string;
  /**
   * The host directory of the cell's tool socket (tool-socket.ts): mounted read-only, and the
   * tool server told to connect to it; the container's stdin is then left closed (no `-i`).
   * Without it the tool server speaks on stdio.
   */
  toolSocketDir?: string;
}

/**
 * The cgroup parent of an install's container cells: one per install, so however many cells
 * run they share one parent's CPU weight against the host and other installs (issue 17). A
 * `.slice` name works with both drivers: systemd makes it a slice, cgroupfs a plain group.
 */
export function cellCgroupParent(installId: string): string {
  return `${installCgroupName(installId)}.slice`;
}

/**
 * `run` arguments shared by docker, podman and docker+gVisor: the tool server on its socket
 * or on stdio, no
 * network at all (an `--internal` network still reaches the host's bridge addresses), a
 * read-only root with tmpfs scratch space, no capabilities, no new privileges, private IPC,
 * our seccomp profile (the syscalls and socket families bwrap's filter refuses; never
 * `unconfined`), and memory, swap, pids and CPU limits from the spec.
 */
export function containerRunArgs(o: ContainerRunOptions): string[] {
  const { spec, user } = o;
  const args = [
    'run',
    ...(o.toolSocketDir ? [] : ['-i']),
    '--rm',
    // An init as pid 1 reaps the processes a killed command leaves behind.
    '--init',
    '--name',
    o.name,
    '--label',
    `${LABEL_INSTALL}=${o.installId}`,
    '--label',
    `${LABEL_GROUP}=${spec.groupName}`,
    '--label',
    `${LABEL_OWNER_PID}=${process.pid}`,
    ...(o.engineArgs ?? []),
    ...(o.cgroupParent ? ['--cgroup-parent', o.cgroupParent] : []),
    // The engine keeps no log of the cell's output: what a command writes into the tool
    // server's stdout or stderr must not pile up on the host's disk (the host reads stderr's
    // tail from the attach stream, bounded).
    '--log-driver',
    'none',
    '--network',
    o.network ?? 'none',
    '--ipc',
    'private',
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--security-opt',
    `seccomp=${o.seccompProfile}`,
    '--user',
    `${user.uid}:${user.gid}`,
    '--pids-limit',
    String(o.hostPidsLimit ?? spec.limits.pids),
    '--memory',
    `${spec.limits.memoryMb}m`,
    // Same as --memory: no swap, so a memory hog is killed instead of slowing the host.
    '--memory-swap',
    `${spec.limits.memoryMb}m`,
    '--cpus',
    String(spec.limits.cpus),
    '--tmpfs',
    '/tmp:rw,nosuid,nodev,size=256m',
    '--tmpfs',
    o.tmpfsOwnerOptions === false
      ? '/home/cell:rw,nosuid,nodev,size=64m,U'
      : `/home/cell:rw,nosuid,nodev,size=64m,uid=${user.uid},gid=${user.gid},mode=0700`,
    '--workdir',
    spec.workdir,
    '--mount',
    bindMount(spec.toolServerPath, TOOL_SERVER_CELL_PATH, true),
  ];
  for (const m of spec.mounts) args.push('--mount', bindMount(m.hostPath, m.cellPath, m.readOnly));
  for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
  if (o.toolSocketDir) {
    args.push('--mount', bindMount(o.toolSocketDir, CELL_TOOL_SOCKET_DIR, true));
    args.push('--env', `${TOOL_SOCKET_ENV}=${CELL_TOOL_SOCKET_PATH}`);
  }
  args.push(o.image, ...TOOL_SERVER_IN_OWN_PID_NAMESPACE);
  return args;
}

export function bindMount(source: string, target: string, readOnly: boolean): string {
  // `--mount` splits on commas: a path with one would silently change the mount.
  for (const p of [source, target]) {
    if (p.includes(',')) throw new Error(`cannot mount ${p}: a path with a comma is not supported`);
  }
  return `type=bind,source=${source},target=${target}${readOnly ? ',readonly' : ''}`;
}

/** A container name for a cell: the group and a random suffix, nothing else. */
export function cellName(groupName: string, suffix: string): string {
  return `nanocell-${groupName}-${suffix}`;
}

/**
 * Orphans among the containers `ps` lists as "ID OWNER_PID" lines: cells of this install
 * whose owning host process is gone (or that predate the owner label).
 */
export function orphanIds(
  psOutput: string,
  isAlive: (pid: number) => boolean = pidAlive,
): string[] {
  const ids: string[] = [];
  for (const line of psOutput.split('\n')) {
    const [id, owner] = line.trim().split(/\s+/);
    if (!id) continue;
    const pid = Number(owner);
    const owned = Number.isInteger(pid) && pid > 0 && (pid === process.pid || isAlive(pid));
    if (!owned) ids.push(id);
  }
  return ids;
}

/**
 * Names of cells of `installId` (named `nanocell-<install>-<pid>-...`) whose owner is gone;
 * for CLIs whose listing has no labels (Apple container,
 * Docker Sandboxes).
 */
export function orphanNames(
  listing: string,
  installId: string,
  isAlive: (pid: number) => boolean = pidAlive,
): string[] {
  const prefix = `nanocell-${installId}-`;
  return listing
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((id) => id.startsWith(prefix))
    .filter((id) => {
      const pid = Number(id.slice(prefix.length).split('-')[0]);
      return !(Number.isInteger(pid) && pid > 0 && (pid === process.pid || isAlive(pid)));
    });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * How each engine removes a running container at once: podman's `rm -f` first waits 10 s
 * for the container to stop on SIGTERM.
 */
export function forceRemoveArgs(engine: string): string[] {
  return /podman$/.test(engine) ? ['rm', '-f', '-t', '0'] : ['rm', '-f'];
}

/** `ENGINE rm -f NAME`, ignoring a container that is already gone. */
export function removeContainer(engine: string, name: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const rm = spawn(engine, [...forceRemoveArgs(engine), name], { stdio: 'ignore' });
    rm.on('exit', () => resolve());
    rm.on('error', () => resolve());
  });
}

/** Remove this install's orphaned containers; `format` prints "ID OWNER_PID" per container. */
export function removeOrphanContainers(engine: string, installId: string, format: string): number {
  const ls = spawnSync(
    engine,
    ['ps', '-a', '--filter', `label=${LABEL_INSTALL}=${installId}`, '--format', format],
    { encoding: 'utf8', timeout: 15_000 },
  );
  if (ls.status !== 0) return 0;
  const ids = orphanIds(ls.stdout);
  if (ids.length > 0) spawnSync(engine, [...forceRemoveArgs(engine), ...ids], { timeout: 60_000 });
  return ids.length;
}
