import process from 'node:process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runTimed } from './commands.mjs';
import { writeSeccompProfile } from '../dist/cells/seccomp-profile.js';

/** The uid a root host gives its cells (src/cells/cell-user.ts): baselines run as it too. */
const ROOT_HOST_CELL_ID = 10001;
const TOOL_SERVER_CELL_PATH = '/opt/nanocell/tool-server.mjs';
const FIRST_FD = 3;

let gvisorProfileFile;
/** nanocell's seccomp profile for gVisor, written once per benchmark process. */
function gvisorProfile() {
  gvisorProfileFile ??= writeSeccompProfile(process.arch, undefined, 'gvisor');
  return gvisorProfileFile;
}

/**
 * The bare engine command of each container runtime, with the flags the issue names: what
 * `<engine> run` needs on this host to start the same image at all, nothing of nanocell's.
 */
export function bareEngine(runtimeName) {
  switch (runtimeName) {
    case 'docker':
      return { engine: 'docker', runFlags: [] };
    case 'gvisor':
      // runsc runs with --oci-seccomp (setup.sh): docker's default profile refuses clone3,
      // which gVisor's libc cannot fall back from, so the bare run gets the profile too.
      return {
        engine: 'docker',
        runFlags: ['--runtime=runsc', '--security-opt', `seccomp=${gvisorProfile()}`],
      };
    case 'podman':
      return {
        engine: 'podman',
        runFlags: [
          '--runtime',
          'runc',
          '--ulimit',
          'nofile=4096:4096',
          '--ulimit',
          'nproc=4096:4096',
          ...((process.getuid?.() ?? 0) !== 0 ? ['--userns', 'keep-id'] : []),
        ],
      };
    default:
      return undefined;
  }
}

/** `<engine> run --rm --network none IMAGE CMD...`: a bare container, to its exit. */
export function runBareContainer(bare, image, command) {
  return runTimed(bare.engine, [
    'run',
    '--rm',
    ...bare.runFlags,
    '--network',
    'none',
    image,
    ...command,
  ]);
}

/** A detached bare container running `command` (e.g. sleep infinity), for exec and memory. */
export function startBareContainer(bare, image, name, command) {
  return runTimed(bare.engine, [
    'run',
    '-d',
    '--rm',
    '--name',
    name,
    ...bare.runFlags,
    '--network',
    'none',
    image,
    ...command,
  ]);
}

export function execInContainer(bare, name, command) {
  return runTimed(bare.engine, ['exec', name, ...command]);
}

/** Remove at once: podman's `rm -f` otherwise gives `sleep` (pid 1, deaf to SIGTERM) 10 s. */
export function removeBareContainer(bare, name) {
  return runTimed(bare.engine, [
    'rm',
    '-f',
    ...(bare.engine === 'podman' ? ['-t', '0'] : []),
    name,
  ]);
}

/**
 * The bwrap arguments a cell gets (src/cells/bwrap.ts) with the same binds, minus what
 * nanocell adds on top of bwrap: the seccomp filter and the cgroup hand-over. Binds are
 * passed as open fds, as the runtime does, so a root host can drop to the cell uid before
 * bwrap looks up any path.
 */
function bwrapArgs(sandbox, fdCount, command) {
  const uid = (process.getuid?.() ?? 0) === 0 ? ROOT_HOST_CELL_ID : (process.getuid?.() ?? 0);
  const gid = (process.getuid?.() ?? 0) === 0 ? ROOT_HOST_CELL_ID : (process.getgid?.() ?? 0);
  const fd = (i) => String(FIRST_FD + i);
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--uid',
    String(uid),
    '--gid',
    String(gid),
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
    String(256 * 1024 * 1024),
    '--tmpfs',
    '/tmp',
    '--size',
    String(64 * 1024 * 1024),
    '--tmpfs',
    '/home/cell',
  ];
  sandbox.mounts.forEach((m, i) => {
    args.push(m.readOnly ? '--ro-bind-fd' : '--bind-fd', fd(i + 2), m.cellPath);
  });
  const serverDir = path.posix.dirname(TOOL_SERVER_CELL_PATH);
  args.push('--tmpfs', serverDir, '--ro-bind-fd', fd(1), TOOL_SERVER_CELL_PATH);
  args.push('--remount-ro', serverDir, '--chdir', sandbox.workdir);
  if (fdCount !== sandbox.mounts.length + 2) throw new Error('bare bwrap: fds out of step');
  return [...args, '--', ...command];
}

function openBinds(sandbox) {
  const paths = [sandbox.rootfs, sandbox.toolServerPath, ...sandbox.mounts.map((m) => m.hostPath)];
  return paths.map((p) => fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW));
}

function dropToCellUser() {
  return (process.getuid?.() ?? 0) === 0 ? { uid: ROOT_HOST_CELL_ID, gid: ROOT_HOST_CELL_ID } : {};
}

/** Bare bwrap running `command` to its exit, timed from spawn to exit. */
export async function runBareBwrap(sandbox, command) {
  const fds = openBinds(sandbox);
  try {
    return await runTimed('bwrap', bwrapArgs(sandbox, fds.length, command), {
      extraFds: fds,
      env: sandbox.env,
      ...dropToCellUser(),
    });
  } finally {
    for (const f of fds) fs.closeSync(f);
  }
}

/** Bare bwrap holding a long-running command (memory baseline); the caller kills it by pid. */
export function spawnBareBwrap(sandbox, command) {
  const fds = openBinds(sandbox);
  try {
    return spawn('bwrap', bwrapArgs(sandbox, fds.length, command), {
      stdio: ['ignore', 'ignore', 'ignore', ...fds],
      env: sandbox.env,
      ...dropToCellUser(),
    });
  } finally {
    for (const f of fds) fs.closeSync(f);
  }
}
