import { spawn } from 'node:child_process';
import path from 'node:path';
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { startFakeModel } from './fake-model.mjs';
import { PROJECT_ROOT } from './host-process.mjs';
import { summarize } from './stats.mjs';
import { hostDirs } from './temp-dir.mjs';

/** Spawn `node ARGS` and resolve when it exits, with its start time. */
function spawnNode(args, env) {
  const startedAt = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    if (stderr.length < 4000) stderr += d;
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { startedAt, exited };
}

/**
 * Figure 12: a cold `nanocell ask "hi"` process, from spawn to the fake model receiving its
 * request, for what `./nanocell` runs (the bundle, dist/bundle/main.js) and for the tsc build
 * (dist/main.js, the modules one by one), interleaved with a bare `node -e 0` (spawn to exit):
 * the floor of any Node.js command.
 */
export async function askColdStart({ reps, cleanup }) {
  const model = await startFakeModel();
  cleanup.add('fake model (ask)', () => model.close());
  const { home, configDir } = hostDirs('ask', cleanup);
  const env = {
    ...process.env,
    ANTHROPIC_API_KEY: 'bench-key',
    ANTHROPIC_BASE_URL: model.url,
    NANOCELL_HOME: home,
    NANOCELL_CONFIG_DIR: configDir,
    NANOCELL_MODEL_MAX_RETRIES: '0',
    NANOCELL_LOG_LEVEL: 'warn',
  };
  const entries = {
    bundle: path.join(PROJECT_ROOT, 'dist', 'bundle', 'main.js'),
    modules: path.join(PROJECT_ROOT, 'dist', 'main.js'),
  };
  const toRequest = { bundle: [], modules: [] };
  const bare = [];
  const once = async (which) => {
    const before = model.requests.length;
    const { startedAt, exited } = spawnNode([entries[which], 'ask', 'hi'], env);
    const { code, stderr } = await exited;
    const request = model.requests[before];
    if (!request) throw new Error(`ask (${which}) sent no model request (exit ${code}): ${stderr}`);
    return request.at - startedAt;
  };
  // Untimed: the first run creates the store and warms the page cache.
  await once('bundle');
  await once('modules');
  for (let i = 0; i < reps; i++) {
    toRequest.bundle.push(await once('bundle'));
    toRequest.modules.push(await once('modules'));
    const { startedAt, exited } = spawnNode(['-e', '0'], env);
    await exited;
    bare.push(performance.now() - startedAt);
  }
  return {
    bundle: summarize(toRequest.bundle),
    modules: summarize(toRequest.modules),
    bareNode: summarize(bare),
  };
}
