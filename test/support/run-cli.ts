import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO_ROOT, 'nanocell');

/**
 * The environment a test's nanocell process gets: PATH, HOME, debug logs, then `env`. A test
 * that names a data dir but no owner config dir gets one beside the data dir, so no test ever
 * reads or writes the real ~/.config/nanocell of the machine it runs on.
 */
export function cliEnv(env: Record<string, string>): Record<string, string> {
  const full: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    NANOCELL_LOG_LEVEL: 'debug',
    // The tests read the web event stream as whole replies; the dashboard's test streams.
    NANOCELL_WEB_STREAM: 'off',
    ...env,
  };
  if (full.NANOCELL_HOME && full.NANOCELL_CONFIG_DIR === undefined) {
    full.NANOCELL_CONFIG_DIR = path.join(path.dirname(full.NANOCELL_HOME), 'owner-config');
  }
  return full;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `./nanocell ARGS` as a real process with exactly the given environment (plus PATH and
 * HOME), the way a user would. No stdin unless `input` is given.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  options: { input?: string; timeoutMs?: number; command?: string[] } = {},
): Promise<CliResult> {
  const [file, ...pre] = options.command ?? [CLI];
  return new Promise((resolve, reject) => {
    const child = spawn(file!, [...pre, ...args], {
      cwd: REPO_ROOT,
      env: cliEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
