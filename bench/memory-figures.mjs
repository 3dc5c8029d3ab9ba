import process from 'node:process';
import { setTimeout } from 'node:timers';
import { spawn } from 'node:child_process';
import { bareEngine, removeBareContainer, spawnBareBwrap, startBareContainer } from './bare.mjs';
import { bareSandbox } from './cell-figures.mjs';
import { runTimed } from './commands.mjs';
import { addWebGroup, hostEnv, startHost } from './host-process.mjs';
import { commName, descendants, parseMemUsageMb, rssKb, sumMemoryMb } from './proc-memory.mjs';
import { summarize } from './stats.mjs';
import { hostDirs } from './temp-dir.mjs';
import { WebClient, timeTurn } from './web-client.mjs';

const IDLE_NODE = ['-e', 'setInterval(() => {}, 1 << 30)'];
/**
 * The floor under a tool server (issue 17): an idle node that has loaded the builtins a tool
 * server cannot do without (spawning, async files, reading lines) and run one command.
 */
const TOOL_SERVER_BUILTINS_NODE = [
  '-e',
  "require('node:fs/promises'); require('node:readline'); require('node:child_process').spawnSync('/bin/true'); setInterval(() => {}, 1 << 30)",
];
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Wait until a memory reading stops moving (the last `window` readings within 2%), then
 * take `count` readings. Memory has no "settled" signal; the readings are the signal.
 */
export async function settledSamples(
  read,
  count,
  { intervalMs = 250, window = 4, maxMs = 15_000 } = {},
) {
  const seen = [];
  const deadline = Date.now() + maxMs;
  for (;;) {
    seen.push(await read());
    const last = seen.slice(-window);
    const lo = Math.min(...last);
    const hi = Math.max(...last);
    if ((last.length === window && hi - lo <= 0.02 * hi) || Date.now() > deadline) break;
    await pause(intervalMs);
  }
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push(await read());
    if (i < count - 1) await pause(intervalMs);
  }
  return out;
}

const rssMb = (pid) => () => (rssKb(pid) ?? Number.NaN) / 1024;

/** A bare `node` doing nothing: the floor under any Node.js host's RSS. */
export async function bareNodeIdle(samples) {
  const child = spawn(process.execPath, IDLE_NODE, { stdio: 'ignore' });
  try {
    return summarize(await settledSamples(rssMb(/** @type {number} */ (child.pid)), samples));
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/** `<engine> stats` memory of the named containers, in MiB. */
async function engineStats(engine, names) {
  // Only the named containers are asked about: podman's stats of every container fails when
  // any one of them (a stranger's, or a test's leftover) is in a broken state.
  const listed = await runTimed(engine, ['ps', '--format', '{{.Names}}']);
  if (listed.code !== 0) throw new Error(`${engine} ps failed: ${listed.stderr.trim()}`);
  const wanted = listed.stdout.split('\n').filter((n) => n !== '' && names(n));
  if (wanted.length === 0) return { mb: 0, containers: 0 };
  const r = await runTimed(engine, [
    'stats',
    '--no-stream',
    '--format',
    '{{.Name}}\t{{.MemUsage}}',
    ...wanted,
  ]);
  if (r.code !== 0) throw new Error(`${engine} stats failed: ${r.stderr.trim()}`);
  let total = 0;
  let found = 0;
  for (const line of r.stdout.split('\n')) {
    const [name, usage = ''] = line.split('\t');
    if (!name || !names(name)) continue;
    const mb = parseMemUsageMb(usage);
    if (mb !== null) {
      total += mb;
      found++;
    }
  }
  return { mb: total, containers: found };
}

/**
 * Bare bwrap (the cell's root, binds and uid) holding `node ...nodeArgs`: RSS and PSS readings
 * of its process tree once they settled.
 */
async function bareBwrapMemory(ctx, nodeArgs) {
  const { config, spec, cleanup } = ctx;
  const child = spawnBareBwrap(bareSandbox(config, spec), ['/usr/bin/node', ...nodeArgs]);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const kill = cleanup.add(`bare bwrap pid ${child.pid}`, async () => {
    child.kill('SIGKILL');
    await exited;
  });
  try {
    const pid = /** @type {number} */ (child.pid);
    const tree = () => sumMemoryMb([pid, ...descendants(pid)]);
    const rss = await settledSamples(() => tree().rssMb, ctx.samples);
    const pss = await settledSamples(() => tree().pssMb, ctx.samples);
    return { rss, pss };
  } finally {
    await kill();
  }
}

/**
 * What one idle cell costs without nanocell: the bare runtime holding an idle `node`.
 * bwrap: RSS and PSS of its process tree; containers: `<engine> stats`.
 */
async function bareCellMemory(runtime, ctx) {
  const { config, cleanup, engineSamples } = ctx;
  if (runtime.name === 'bwrap') {
    const idle = await bareBwrapMemory(ctx, IDLE_NODE);
    const floor = await bareBwrapMemory(ctx, TOOL_SERVER_BUILTINS_NODE);
    return {
      label: 'bare bwrap holding an idle node',
      rss: summarize(idle.rss),
      pss: summarize(idle.pss),
      floorPss: summarize(floor.pss),
    };
  }
  const bare = bareEngine(runtime.name);
  if (!bare) return undefined;
  const name = `nanocell-bench-${process.pid}-mem-${runtime.name}`;
  const started = await startBareContainer(bare, config.cellImage, name, [
    '/usr/bin/node',
    ...IDLE_NODE,
  ]);
  if (started.code !== 0) throw new Error(`cannot start ${name}: ${started.stderr.trim()}`);
  const remove = cleanup.add(`container ${name}`, async () => {
    await removeBareContainer(bare, name);
  });
  try {
    const samples = await settledSamples(
      async () => (await engineStats(bare.engine, (n) => n === name)).mb,
      engineSamples,
      { intervalMs: 0, window: 2 },
    );
    return {
      label: `bare ${bare.engine} container holding an idle node (${bare.engine} stats)`,
      stats: summarize(samples),
    };
  } finally {
    await remove();
  }
}

/**
 * One data dir for every runtime's memory host, with `cells` groups gN bound to web chats,
 * registered as the owner would (`groups add gN --chat web:gN --no-trigger`). Shared so the
 * groups are added once; each host starts on it in turn.
 */
export async function prepareMemoryHome(ctx, cells) {
  const { home, configDir } = hostDirs('mem', ctx.cleanup);
  const groups = Array.from({ length: cells }, (_, i) => `g${i + 1}`);
  const env = hostEnv({ home, configDir, modelUrl: ctx.model.url, runtime: 'auto' });
  for (const g of groups) {
    ctx.progress(`fig 5: groups add ${g}`);
    await addWebGroup(env, g);
  }
  return { home, configDir, groups };
}

const perCell = (xs, live) => summarize(xs.map((x) => x / Math.max(1, live)));

/**
 * Figure 5 for one runtime: the host's RSS idle and with `cells` warm cells (one message with
 * a bash call to each group of `ctx.memoryHome`), and what each warm cell costs: the host's growth
 * per cell, plus the cell's own processes: from /proc for bwrap, whose cells are the host's
 * children; `<engine> stats` for containers, plus the engine's CLI client that the host keeps
 * per cell. Values per cell divide by the live cells the host reports.
 */
export async function hostMemory(runtime, ctx) {
  const { model, cleanup, progress, samples, engineSamples, memoryHome } = ctx;
  const { home, configDir, groups } = memoryHome;
  const cells = groups.length;
  const env = hostEnv({
    home,
    configDir,
    modelUrl: model.url,
    runtime: runtime.name,
    // One warm cell kept per group (what the figure measures); with a fresh cell per run the
    // host would keep spares instead, one fewer while a run holds its slot.
    extra: {
      NANOCELL_MAX_LIVE_CELLS: String(cells),
      NANOCELL_CELL_IDLE_MS: '3600000',
      NANOCELL_CELL_REUSE: 'group',
    },
  });
  const host = await startHost(env, cleanup);
  const client = new WebClient(host.url, host.token);
  try {
    await client.connect();
    progress(`fig 5 ${runtime.name}: host idle`);
    const idle = await settledSamples(rssMb(host.pid), samples);
    for (const [i, g] of groups.entries()) {
      progress(`fig 5 ${runtime.name}: warming cell ${i + 1}/${cells}`);
      await timeTurn(client, model, g);
    }
    const live = (await client.status()).liveCells;
    progress(`fig 5 ${runtime.name}: host with ${live} warm cells`);
    const warm = await settledSamples(rssMb(host.pid), samples);
    const idleMedian = summarize(idle).median;
    const hostGrowth = warm.map((w) => (w - idleMedian) / Math.max(1, live));
    const children = () => sumMemoryMb(descendants(host.pid));
    const childRss = await settledSamples(() => children().rssMb, samples);
    const childPss = await settledSamples(() => children().pssMb, samples);
    const kids = descendants(host.pid);
    const kidNames = `${kids.length} processes (${[...new Set(kids.map(commName))].join(', ')})`;
    const baseline = await bareCellMemory(runtime, ctx);
    const result = {
      live,
      idle: summarize(idle),
      warm: summarize(warm),
      hostPerCell: summarize(hostGrowth),
      cellRows: [],
      totalPerCell: undefined,
      totalBaselineLabel: baseline?.label,
      totalBaseline: baseline?.pss ?? baseline?.stats,
    };
    if (runtime.name === 'bwrap') {
      result.cellRows.push(
        {
          label: 'cell processes per warm cell, RSS summed',
          value: perCell(childRss, live),
          baselineLabel: `${baseline?.label}, RSS`,
          baseline: baseline?.rss,
          note: `${kidNames} under the host; RSS counts the shared node binary once per process`,
        },
        {
          label: 'cell processes per warm cell, PSS summed',
          value: perCell(childPss, live),
          baselineLabel: `${baseline?.label}, PSS`,
          baseline: baseline?.pss,
        },
        {
          label: 'floor: bare bwrap holding a node that loaded what a tool server needs, PSS',
          value: baseline?.floorPss,
          baselineLabel: `${baseline?.label}, PSS`,
          baseline: baseline?.pss,
          note: 'node -e with fs/promises and readline loaded and one child_process.spawnSync, then idle: what any Node.js tool server costs at least',
        },
      );
      result.totalPerCell = summarize(
        childPss.map((p, i) => p / Math.max(1, live) + (hostGrowth[i % hostGrowth.length] ?? 0)),
      );
      return result;
    }
    const bare = bareEngine(runtime.name);
    if (!bare) return result;
    const inContainers = [];
    let containers = 0;
    for (let i = 0; i < engineSamples; i++) {
      const s = await engineStats(bare.engine, (n) => /^nanocell-g\d+-[0-9a-f]+$/.test(n));
      inContainers.push(s.mb);
      containers = s.containers;
    }
    result.cellRows.push(
      {
        label: `in the container per warm cell (${bare.engine} stats)`,
        value: perCell(inContainers, live),
        baselineLabel: baseline?.label,
        baseline: baseline?.stats,
        note: `${containers} cell containers listed by ${bare.engine} stats`,
      },
      {
        label: `${bare.engine} processes the host keeps per warm cell, RSS`,
        value: perCell(childRss, live),
        note: `${kidNames} under the host (the \`${bare.engine} run\` client of each cell${bare.engine === 'podman' ? ', and the one API service spare containers start through' : ''}); PSS ${(summarize(childPss).median / Math.max(1, live)).toFixed(1)} MiB per cell`,
      },
    );
    const containerMedian = summarize(inContainers).median;
    result.totalPerCell = summarize(
      childPss.map(
        (p, i) =>
          (p + containerMedian) / Math.max(1, live) + (hostGrowth[i % hostGrowth.length] ?? 0),
      ),
    );
    return result;
  } finally {
    client.close();
    await host.stop();
  }
}
