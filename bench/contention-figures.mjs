import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { summarize } from './stats.mjs';

/** Busy loops in the cell, more than its CPU limit, for `seconds` at most. */
const BURN = (seconds) =>
  `timeout ${seconds} bash -c 'for i in 1 2 3 4; do (while :; do :; done) & done; wait'`;

/**
 * Figure 14 for one runtime: `echo hi` in a warm cell and the host's event-loop delay (this
 * process holds the cells, as the host does), first with a second cell of the same install
 * idle, then while that cell runs four busy loops (more than its 1-CPU limit): the cells'
 * CPU limits and their install's cgroup parent must keep the quiet cell and the host going.
 */
export async function cpuContention(runtime, ctx) {
  const { spec, calls, cleanup, progress } = ctx;
  const quiet = await runtime.start({ ...spec, groupName: 'quiet' });
  cleanup.add(`${runtime.name} quiet cell`, () => quiet.stop());
  const busy = await runtime.start({ ...spec, groupName: 'busy' });
  cleanup.add(`${runtime.name} busy cell`, () => busy.stop());
  const echo = async () => {
    const t0 = performance.now();
    const res = await quiet.call({ tool: 'bash', input: { command: 'echo hi' } });
    if (!res.ok) throw new Error(`echo hi in the quiet ${runtime.name} cell failed: ${res.output}`);
    return performance.now() - t0;
  };
  const measure = async (label) => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const ms = [];
    for (let i = 0; i < calls; i++) {
      progress(`fig 14 ${runtime.name} ${label} ${i + 1}/${calls}`);
      ms.push(await echo());
      // A user's pace, not a tight loop: the burner gets the CPU in between.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    delay.disable();
    return { call: summarize(ms), loopP99: summarize([delay.percentile(99) / 1e6]) };
  };
  for (let i = 0; i < 5; i++) await echo();
  const idle = await measure('idle');
  const burning = busy.call({
    tool: 'bash',
    input: { command: BURN(120) },
    timeoutMs: 130_000,
  });
  // Let the burner get going before timing.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const loaded = await measure('burning');
  await busy.stop();
  await burning.catch(() => undefined);
  await quiet.stop();
  return { idle, loaded };
}
