import { setTimeout as sleep } from 'node:timers/promises';
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import {
  bareEngine,
  execInContainer,
  removeBareContainer,
  runBareBwrap,
  runBareContainer,
  startBareContainer,
} from './bare.mjs';
import { summarize } from './stats.mjs';

const CELL_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/home/cell', LANG: 'C.UTF-8' };

/**
 * The grant a group's cell gets from src/app.ts (cellSpecFor): its folder read-write, the
 * global folder read-only, the same env allowlist and limits.
 */
export function benchCellSpec(config, dirs, mountPaths) {
  return {
    groupName: 'bench',
    mounts: [
      { hostPath: dirs.group, cellPath: mountPaths.group, readOnly: false },
      { hostPath: dirs.global, cellPath: mountPaths.global, readOnly: true },
    ],
    env: { ...CELL_ENV, TZ: config.timezone },
    workdir: mountPaths.group,
    toolServerPath: config.toolServerPath,
    limits: {
      memoryMb: 1024,
      pids: 256,
      cpus: 1,
      callTimeoutMs: config.toolTimeoutMs,
      maxOutputBytes: config.maxOutputBytes,
    },
    network: { mode: 'none' },
  };
}

/** The bare sandbox for bwrap baselines: the same root, tool server and mounts as the cell. */
export function bareSandbox(config, spec) {
  return {
    rootfs: config.cellRootfs,
    toolServerPath: spec.toolServerPath,
    mounts: spec.mounts,
    workdir: spec.workdir,
    env: spec.env,
  };
}

/** How to run a bare command next to a runtime; undefined when the issue names none. */
function bareRunner(runtimeName, config, spec) {
  if (runtimeName === 'bwrap') {
    const sandbox = bareSandbox(config, spec);
    return {
      label: 'bare bwrap, same binds',
      run: (command) => runBareBwrap(sandbox, command),
    };
  }
  const bare = bareEngine(runtimeName);
  if (!bare) return undefined;
  return {
    label: [bare.engine, 'run --rm', ...bare.runFlags, '--network none', config.cellImage].join(
      ' ',
    ),
    run: (command) => runBareContainer(bare, config.cellImage, command),
  };
}

function checkBare(result, what) {
  if (result.code !== 0) {
    throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim().slice(-300)}`);
  }
  return result.ms;
}

/** A pause for background work to finish (a quiet 2-core machine needs well under this). */
const settle = () => sleep(400);

/**
 * Figure 1: cold start. Cell and bare runs alternate, so a slow patch of a noisy machine
 * hits both. A cell is "ready" when start() resolves: the tool server inside has said
 * {"ready":true}. The first call is timed apart; `true` through bash.
 */
export async function coldStart(runtime, ctx) {
  const { config, spec, reps, progress } = ctx;
  const bare = bareRunner(runtime.name, config, spec);
  const start = [];
  const firstCall = [];
  const bareTrue = [];
  const bareNode = [];
  // One untimed round of each: first use pulls the image and binaries into the page cache.
  await (await runtime.start(spec)).stop();
  if (bare) checkBare(await bare.run(['/bin/true']), `${bare.label} /bin/true`);
  for (let i = 0; i < reps; i++) {
    progress(`fig 1 ${runtime.name} ${i + 1}/${reps}`);
    const t0 = performance.now();
    const cell = await runtime.start(spec);
    const t1 = performance.now();
    const res = await cell.call({ tool: 'bash', input: { command: 'true' } });
    const t2 = performance.now();
    await cell.stop();
    if (!res.ok) throw new Error(`first call in a ${runtime.name} cell failed: ${res.output}`);
    start.push(t1 - t0);
    firstCall.push(t2 - t1);
    // What a start leaves to do in the background (podman's next spare container) is done
    // before the bare runs, so it never slows them; and before the next start.
    await settle();
    if (bare) {
      bareTrue.push(checkBare(await bare.run(['/bin/true']), `${bare.label} /bin/true`));
      bareNode.push(
        checkBare(await bare.run(['/usr/bin/node', '-e', '0']), `${bare.label} node -e 0`),
      );
      await settle();
    }
  }
  return {
    start: summarize(start),
    firstCall: summarize(firstCall),
    startToFirstAnswer: summarize(start.map((s, i) => s + (firstCall[i] ?? 0))),
    baselineLabel: bare?.label,
    bareTrue: bare ? summarize(bareTrue) : undefined,
    bareNode: bare ? summarize(bareNode) : undefined,
  };
}

/**
 * Figure 2: `echo hi` through the tool server of a warm cell, beside the bare way to run it:
 * `<engine> exec` into a running container, or a fresh bare bwrap (bwrap has no exec).
 * Baseline runs are slower, so there are fewer; they are spread between the cell calls.
 */
export async function toolRoundTrip(runtime, ctx) {
  const { config, spec, roundTrips, baselineRuns, cleanup, progress } = ctx;
  const cell = await runtime.start(spec);
  const stopCell = cleanup.add(`${runtime.name} cell`, () => cell.stop());
  const bare = bareEngine(runtime.name);
  const name = `nanocell-bench-${process.pid}-${runtime.name}`;
  let baselineLabel;
  let baseline;
  let removeSleeper;
  try {
    if (bare) {
      const started = await startBareContainer(bare, config.cellImage, name, ['sleep', 'infinity']);
      if (started.code !== 0) {
        throw new Error(`cannot start the exec baseline container: ${started.stderr.trim()}`);
      }
      removeSleeper = cleanup.add(`container ${name}`, async () => {
        await removeBareContainer(bare, name);
      });
      baselineLabel = `${bare.engine} exec CONTAINER echo hi`;
      baseline = () => execInContainer(bare, name, ['echo', 'hi']);
    } else if (runtime.name === 'bwrap') {
      const sandbox = bareSandbox(config, spec);
      baselineLabel = 'bare bwrap … echo hi';
      baseline = () => runBareBwrap(sandbox, ['/bin/echo', 'hi']);
    }
    const call = async () => {
      const t0 = performance.now();
      const res = await cell.call({ tool: 'bash', input: { command: 'echo hi' } });
      const ms = performance.now() - t0;
      if (!res.ok || !res.output.includes('hi')) {
        throw new Error(`echo hi in a warm ${runtime.name} cell failed: ${res.output}`);
      }
      return ms;
    };
    for (let i = 0; i < 5; i++) await call();
    if (baseline) checkBare(await baseline(), baselineLabel);
    const cellMs = [];
    const baseMs = [];
    const perBaseline = baseline ? Math.max(1, Math.floor(roundTrips / baselineRuns)) : roundTrips;
    while (cellMs.length < roundTrips) {
      progress(`fig 2 ${runtime.name} ${cellMs.length}/${roundTrips}`);
      for (let j = 0; j < perBaseline && cellMs.length < roundTrips; j++) cellMs.push(await call());
      if (baseline && baseMs.length < baselineRuns) {
        const r = await baseline();
        baseMs.push(checkBare(r, baselineLabel));
        if (!r.stdout.includes('hi')) throw new Error(`${baselineLabel} printed ${r.stdout}`);
      }
    }
    return {
      roundTrip: summarize(cellMs),
      baselineLabel,
      baseline: baseline ? summarize(baseMs) : undefined,
    };
  } finally {
    await stopCell();
    await removeSleeper?.();
  }
}
