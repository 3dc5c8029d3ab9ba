import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export class CommandError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'CommandError';
  }
}

/**
 * Run a command to its end and time it, from spawn to exit, in ms. Never rejects for a
 * non-zero exit: the caller decides (a baseline that fails makes its figure say so).
 * `extraFds` are opened files handed to the child as fds 3, 4, ... (bwrap's --*-bind-fd).
 */
export function runTimed(file, args, options = {}) {
  return new Promise((resolve) => {
    const stdio = ['ignore', 'pipe', 'pipe', ...(options.extraFds ?? [])];
    const startedAt = performance.now();
    const child = spawn(file, args, {
      stdio,
      env: options.env ?? process.env,
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - startedAt, code: -1, stdout, stderr: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        ms: performance.now() - startedAt,
        code: code ?? (signal ? 128 : -1),
        stdout,
        stderr,
      });
    });
  });
}

/** runTimed, but a non-zero exit is an error that names the command and its stderr. */
export async function runChecked(file, args, options = {}) {
  const result = await runTimed(file, args, options);
  if (result.code !== 0) {
    const why = result.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${result.code}`;
    throw new CommandError(`\`${file} ${args.join(' ')}\` failed: ${why}`);
  }
  return result;
}
