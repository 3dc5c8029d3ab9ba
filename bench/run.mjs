/**
 * nanocell benchmarks (issue 6): `npm run bench` (full) or `npm run bench:quick`.
 * Measures the compiled code in dist/, each figure beside its baseline in the same run, prints
 * a table and writes bench/results/latest.md and latest.json.
 *
 * Options: --quick (few repetitions, ~4 minutes), --figures=1,2,... (only those figures;
 * --figures=10, prompt caching, takes a few seconds and needs no cell runtime).
 */
import process from 'node:process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { allRuntimes } from '../dist/cells/runtimes.js';
import { loadConfig } from '../dist/config.js';
import { GLOBAL_MOUNT_PATH, GROUP_MOUNT_PATH } from '../dist/tools/cell-tools.js';
import {
  coldStartFigure,
  memoryFigure,
  roundTripFigure,
  routerFigure,
  schedulerFigure,
  toModelFigure,
  turnFigure,
  freshCellFigure,
  imageSizeFigure,
  askColdFigure,
  contentionFigure,
  promptCacheFigure,
} from './build-figures.mjs';
import { imageSizes } from './image-figures.mjs';
import { askColdStart } from './ask-figures.mjs';
import { cpuContention } from './contention-figures.mjs';
import { conversationUsage } from './prompt-cache-figures.mjs';
import { benchCellSpec, coldStart, toolRoundTrip } from './cell-figures.mjs';
import { Cleanup } from './cleanup.mjs';
import { startFakeModel } from './fake-model.mjs';
import { PROJECT_ROOT } from './host-process.mjs';
import { routerThroughput, schedulerTick } from './inprocess-figures.mjs';
import { describeMachine } from './machine.mjs';
import { bareNodeIdle, hostMemory, prepareMemoryHome } from './memory-figures.mjs';
import { resultsMarkdown, writeResults } from './report.mjs';
import { tempDir } from './temp-dir.mjs';
import { hostTurns } from './turn-figures.mjs';
import { freshCellTurns } from './fresh-cell-figures.mjs';
import { hostLoad, loadFigure, scaleFigure, SCALE_ENV } from './load-figures.mjs';

const QUICK = {
  coldReps: 3,
  roundTrips: 100,
  baselineRuns: 10,
  warmTurns: 5,
  coldTurns: 2,
  idleMs: 1000,
  memCells: 10,
  memSamples: 4,
  engineSamples: 1,
  memRuntimes: ['bwrap', 'docker'],
  router: { groups: 100, messages: 5000, rounds: 3 },
  scheduler: { sizes: [100, 1000, 10_000], due: 10, ticks: 30 },
  fresh: { turns: 6, gapMs: 1500 },
  load: { sizes: [20], perGroup: 2 },
  scale: { sizes: [10, 30] },
  promptCache: { turns: 20 },
  askReps: 5,
  contentionCalls: 30,
};
const FULL = {
  coldReps: 15,
  roundTrips: 500,
  baselineRuns: 30,
  warmTurns: 30,
  coldTurns: 8,
  idleMs: 1500,
  memCells: 10,
  memSamples: 12,
  engineSamples: 3,
  memRuntimes: undefined,
  router: { groups: 100, messages: 20_000, rounds: 7 },
  scheduler: { sizes: [100, 1000, 10_000], due: 10, ticks: 300 },
  fresh: { turns: 12, gapMs: 1500 },
  load: { sizes: [20, 100], perGroup: 3 },
  scale: { sizes: [10, 100] },
  promptCache: { turns: 20 },
  askReps: 15,
  contentionCalls: 100,
};

const CELL_UID = 10001;

function progressReporter() {
  if (!process.stderr.isTTY) return () => undefined;
  return (msg) => process.stderr.write(`\r\x1b[K${msg}`);
}

const benchStart = performance.now();

function say(msg) {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const s = ((performance.now() - benchStart) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`bench [${s} s]: ${msg}\n`);
}

/** Run `measure` per runtime; a failure is that runtime's result, not the benchmark's end. */
async function perRuntime(runtimes, label, measure) {
  const out = [];
  for (const rt of runtimes) {
    say(`${label}: ${rt.name}`);
    try {
      out.push({ name: rt.name, result: await measure(rt) });
    } catch (err) {
      say(`${label}: ${rt.name} failed: ${err instanceof Error ? err.message : err}`);
      out.push({ name: rt.name, error: err });
    }
    globalThis.gc?.();
  }
  return out;
}

async function main() {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, figures: { type: 'string' } },
  });
  const plan = values.quick ? QUICK : FULL;
  const wanted = new Set(
    (values.figures ?? '1,2,3,4,5,6,7,8,9,10,11,12,13,14').split(',').map((s) => Number(s.trim())),
  );
  const startedAt = new Date();
  const t0 = performance.now();
  const cleanup = new Cleanup();
  const progress = progressReporter();
  const onSignal = (signal) => {
    say(`${signal}: cleaning up`);
    void cleanup.runAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const machine = await describeMachine();
    const base = tempDir('cells', cleanup);
    const config = loadConfig({
      NANOCELL_HOME: path.join(base, 'home'),
      NANOCELL_CONFIG_DIR: path.join(base, 'config'),
      TZ: 'UTC',
    });
    const dirs = { group: path.join(base, 'group'), global: path.join(base, 'global') };
    for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
    // A root host's cells run as uid 10001 and own their group folder (as src/cells/cell-user.ts does).
    if (process.getuid?.() === 0) fs.chownSync(dirs.group, CELL_UID, CELL_UID);
    const spec = benchCellSpec(config, dirs, {
      group: GROUP_MOUNT_PATH,
      global: GLOBAL_MOUNT_PATH,
    });

    const installId = `bench${crypto.randomBytes(3).toString('hex')}`;
    const runtimes = allRuntimes(config, installId);
    cleanup.add('namespace holders', () => Promise.all(runtimes.map((rt) => rt.close?.())));
    const statuses = [];
    for (const rt of runtimes) {
      const st = await rt.status();
      statuses.push({ name: rt.name, ok: st.ok, detail: st.detail });
      say(`${rt.name}: ${st.ok ? 'ok' : 'not available'}: ${st.detail}`);
    }
    const available = runtimes.filter((_, i) => statuses[i]?.ok);
    const ctx = { config, spec, cleanup, progress };
    const figures = [];

    let roundTrips = [];
    if (wanted.has(2) || wanted.has(1)) {
      roundTrips = await perRuntime(available, 'figure 2 (tool round trip)', (rt) =>
        toolRoundTrip(rt, { ...ctx, roundTrips: plan.roundTrips, baselineRuns: plan.baselineRuns }),
      );
    }
    if (wanted.has(1)) {
      const cold = await perRuntime(available, 'figure 1 (cold start)', (rt) =>
        coldStart(rt, { ...ctx, reps: plan.coldReps }),
      );
      figures.push(coldStartFigure(cold, roundTrips));
    }
    if (wanted.has(2)) figures.push(roundTripFigure(roundTrips));

    /** Figures 9 and 13: the real host under `sizes` groups, on the first runtime that works. */
    const loadRuns = async (label, sizes, options) => {
      const model = await startFakeModel();
      cleanup.add(`fake model (${label})`, () => model.close());
      // One runtime: the first that works (bwrap where it does), as a user's host would pick.
      const runtime = available[0];
      const measured = [];
      for (const groups of sizes) {
        say(`${label}, ${groups} groups`);
        try {
          if (!runtime) throw new Error('no runtime is available');
          measured.push({
            groups,
            result: await hostLoad(runtime, { ...ctx, model }, { groups, ...options }),
          });
        } catch (err) {
          measured.push({ groups, error: err });
        }
      }
      return { measured, runtime: runtime?.name ?? '-' };
    };
    if (wanted.has(9)) {
      const { measured, runtime } = await loadRuns('figure 9: load', plan.load.sizes, {
        perGroup: plan.load.perGroup,
      });
      figures.push(loadFigure(measured, { runtime, perGroup: plan.load.perGroup }));
    }
    if (wanted.has(13)) {
      const { measured, runtime } = await loadRuns('figure 13: scale', plan.scale.sizes, {
        perGroup: 1,
        extraEnv: SCALE_ENV,
        label: 'scale',
      });
      figures.push(scaleFigure(measured, { runtime }));
    }
    if (wanted.has(3) || wanted.has(4) || wanted.has(5) || wanted.has(8)) {
      const model = await startFakeModel();
      cleanup.add('fake model', () => model.close());
      if (wanted.has(3) || wanted.has(4)) {
        const turns = await perRuntime(available, 'figures 3, 4 (turns)', (rt) =>
          hostTurns(rt, {
            ...ctx,
            model,
            bwrapAvailable: available.some((a) => a.name === 'bwrap'),
            warmTurns: plan.warmTurns,
            coldTurns: plan.coldTurns,
            idleMs: plan.idleMs,
          }),
        );
        if (wanted.has(3)) figures.push(toModelFigure(turns));
        if (wanted.has(4)) figures.push(turnFigure(turns));
      }
      if (wanted.has(8)) {
        const fresh = await perRuntime(available, 'figure 8 (fresh cell per run)', (rt) =>
          freshCellTurns(rt, { ...ctx, model, ...plan.fresh }),
        );
        figures.push(freshCellFigure(fresh, plan.fresh));
      }
      if (wanted.has(5)) {
        say('figure 5: bare node idle');
        const bareNode = await bareNodeIdle(plan.memSamples);
        const memRuntimes = available.filter(
          (rt) => !plan.memRuntimes || plan.memRuntimes.includes(rt.name),
        );
        const memoryHome = await prepareMemoryHome({ ...ctx, model }, plan.memCells);
        const memory = await perRuntime(memRuntimes, 'figure 5 (memory)', (rt) =>
          hostMemory(rt, {
            ...ctx,
            model,
            memoryHome,
            samples: plan.memSamples,
            engineSamples: plan.engineSamples,
          }),
        );
        const figure = memoryFigure(memory, bareNode, plan.memCells);
        if (plan.memRuntimes) {
          figure.method += ` Quick mode measures ${plan.memRuntimes.join(' and ')} only; \`npm run bench\` measures every available runtime.`;
        }
        figures.push(figure);
      }
    }

    if (wanted.has(6)) {
      say('figure 6 (router throughput)');
      let result;
      try {
        result = await routerThroughput({ ...ctx, ...plan.router });
      } catch (err) {
        result = { error: err };
      }
      figures.push(routerFigure(result, plan.router));
      globalThis.gc?.();
    }
    if (wanted.has(7)) {
      say('figure 7 (scheduler tick)');
      let result;
      try {
        result = { ticks: await schedulerTick({ ...ctx, ...plan.scheduler }) };
      } catch (err) {
        result = { error: err };
      }
      figures.push(schedulerFigure(result, plan.scheduler));
    }

    if (wanted.has(10)) {
      say('figure 10 (prompt caching)');
      let result;
      try {
        const { turns } = plan.promptCache;
        result = {
          on: await conversationUsage({ turns, promptCache: true }),
          off: await conversationUsage({ turns, promptCache: false }),
        };
      } catch (err) {
        result = { error: err };
      }
      figures.push(promptCacheFigure(result, plan.promptCache));
    }

    if (wanted.has(11)) {
      say('figure 11 (cell image size)');
      let result;
      try {
        result = { rows: await imageSizes(config) };
      } catch (err) {
        result = { error: err };
      }
      figures.push(imageSizeFigure(result));
    }

    if (wanted.has(14)) {
      const measured = await perRuntime(
        available.filter((rt) => rt.name === 'bwrap' || rt.name === 'docker'),
        'figure 14 (CPU contention)',
        (rt) => cpuContention(rt, { ...ctx, calls: plan.contentionCalls }),
      );
      figures.push(contentionFigure(measured));
    }

    if (wanted.has(12)) {
      say('figure 12 (ask cold process)');
      let result;
      try {
        result = await askColdStart({ reps: plan.askReps, cleanup });
      } catch (err) {
        result = { error: err };
      }
      figures.push(askColdFigure(result));
    }

    figures.sort((a, b) => a.id - b.id);
    const results = {
      mode: values.quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      durationS: (performance.now() - t0) / 1000,
      // Other work on the machine shows here: compare with loadAverageAtStart.
      machine: { ...machine, loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      runtimes: statuses,
      figures,
    };
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    process.stdout.write(`${resultsMarkdown(results)}\n`);
    const dir = path.join(PROJECT_ROOT, 'bench', 'results');
    writeResults(dir, results);
    say(`wrote ${path.relative(process.cwd(), dir)}/latest.md and latest.json`);
    const failed = figures.some((f) =>
      f.rows.some((r) => r.value === null && r.note?.startsWith('not measured')),
    );
    return failed ? 1 : 0;
  } finally {
    await cleanup.runAll();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exitCode = 1;
  },
);
