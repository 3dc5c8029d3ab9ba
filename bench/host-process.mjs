import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChecked } from './commands.mjs';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');

/**
 * The environment of a benchmark host: nothing of the caller's but PATH and HOME (docker's
 * client config), its own data and config dirs, the fake model, and the given settings.
 */
export function hostEnv({ home, configDir, modelUrl, runtime, extra = {} }) {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    ANTHROPIC_API_KEY: 'bench-key',
    ANTHROPIC_BASE_URL: modelUrl,
    NANOCELL_HOME: home,
    NANOCELL_CONFIG_DIR: configDir,
    NANOCELL_RUNTIME: runtime,
    NANOCELL_WEB_PORT: '0',
    // Whole replies on the event stream: a streamed preview is not the turn's answer.
    NANOCELL_WEB_STREAM: 'off',
    ...extra,
  };
}

/** `nanocell groups add NAME --chat web:NAME --no-trigger`, as the owner would. */
export async function addWebGroup(env, name) {
  await runChecked(
    process.execPath,
    [MAIN, 'groups', 'add', name, '--chat', `web:${name}`, '--no-trigger'],
    { env },
  );
}

export class HostStartError extends Error {
  constructor(message) {
    super(message);
    this.name = 'HostStartError';
  }
}

/**
 * `node dist/main.js start`, ready once it prints its web chat address. Registered with
 * `cleanup`; `stop()` sends SIGTERM to its pid and waits for the exit (it destroys its cells).
 */
export async function startHost(env, cleanup, timeoutMs = 60_000) {
  const child = spawn(process.execPath, [MAIN, 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stop = cleanup.add(`host pid ${child.pid}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  try {
    const address = await new Promise((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(
        () =>
          reject(new HostStartError(`the host printed no web chat address within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c) => {
        stdout += c;
        const m = /Web chat: (\S+)\?token=(\S+)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve({ url: /** @type {string} */ (m[1]), token: /** @type {string} */ (m[2]) });
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new HostStartError(
            `the host exited (${signal ?? `code ${code}`}) before it was ready: ${stderr.trim() || stdout.trim()}`,
          ),
        );
      });
    });
    return { pid: /** @type {number} */ (child.pid), ...address, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const RELAY = path.join(PROJECT_ROOT, 'bench', 'relay-host.mjs');

/** The bare relay (relay-host.mjs) with `config`; stopped by pid through `cleanup`. */
export async function startRelay(config, cleanup, timeoutMs = 30_000) {
  const child = spawn(process.execPath, [RELAY, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = cleanup.add(`relay pid ${child.pid}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new HostStartError('the relay did not start')),
        timeoutMs,
      );
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c) => {
        out += c;
        const m = /relay: (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(/** @type {string} */ (m[1]));
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new HostStartError(`the relay exited (code ${code}): ${stderr.trim()}`));
      });
    });
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
