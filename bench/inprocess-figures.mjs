import { setImmediate } from 'node:timers';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Router } from '../dist/router/router.js';
import { Scheduler } from '../dist/scheduler/scheduler.js';
import { Store } from '../dist/store/store.js';
import { summarize } from './stats.mjs';
import { tempDir } from './temp-dir.mjs';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A fresh data dir with a file-backed store (WAL, as the host has) and the host's kind of
 * log: pino, synchronous, to a file, at info.
 */
function freshStore(cleanup, label) {
  const dir = tempDir(label, cleanup);
  const store = Store.open(path.join(dir, 'nanocell.db'));
  const log = pino(
    { level: 'info' },
    pino.destination({ dest: path.join(dir, 'bench.log'), sync: true }),
  );
  // Closed before its dir goes (cleanup runs in reverse order).
  const done = cleanup.add(`store in ${dir}`, () => store.close());
  return { store, log, done };
}

const inbound = (groupNo, i) => ({
  channel: 'web',
  chatId: `g${groupNo}`,
  sender: 'web:owner',
  senderName: 'owner',
  text: `message ${i} for group ${groupNo}`,
});

/**
 * Figure 6: inbound messages routed (group looked up, message stored, run queued) per second
 * across `groups` groups, with a run that does nothing. Messages arrive in bursts of one per
 * group, each burst in its own event-loop turn, as they would from separate connections; the
 * clock stops when every queued run has resolved. Baseline: the same messages stored straight
 * through the message store (the floor: one SQLite insert each).
 */
export async function routerThroughput(ctx) {
  const { cleanup, groups, messages, rounds, progress } = ctx;
  const routed = [];
  const stored = [];
  const noop = async () => ({ ok: true, reply: null });
  for (let r = 0; r < rounds; r++) {
    progress(`fig 6 round ${r + 1}/${rounds}`);
    for (const mode of ['router', 'store']) {
      const { store, log, done } = freshStore(cleanup, 'router');
      const ids = store.transaction(() =>
        Array.from({ length: groups }, (_, g) => {
          const group = store.groups.create({
            name: `g${g}`,
            isAdmin: false,
            requiresTrigger: false,
          });
          store.groups.bindChat('web', `g${g}`, group.id);
          return group.id;
        }),
      );
      const router = new Router(store, noop, log, {
        assistantName: 'Andy',
        queue: { maxConcurrent: 3 },
      });
      const runs = [];
      const t0 = performance.now();
      for (let i = 0; i < messages;) {
        for (let g = 0; g < groups && i < messages; g++, i++) {
          if (mode === 'router') {
            const res = router.receive(inbound(g, i));
            if (res.status !== 'stored')
              throw new Error(`router did not store a message: ${JSON.stringify(res)}`);
            if (res.run) runs.push(res.run);
          } else {
            store.messages.add({
              groupId: /** @type {number} */ (ids[g]),
              direction: 'in',
              ...inbound(g, i),
            });
          }
        }
        await nextTurn();
      }
      await Promise.all(runs);
      const perSecond = messages / ((performance.now() - t0) / 1000);
      (mode === 'router' ? routed : stored).push(perSecond);
      await done();
    }
  }
  return { routed: summarize(routed), stored: summarize(stored) };
}

/**
 * Figure 7: the cost of one Scheduler.tick() with 10 tasks due, among 100, 1,000 and 10,000
 * tasks; runTask resolves at once. The clock is the scheduler's own (`now`), moved a minute
 * before each tick so the same 10 one-minute tasks are due again; the others run yearly and
 * are never due. Ticks of the three sizes alternate.
 */
export async function schedulerTick(ctx) {
  const { cleanup, sizes, due, ticks, progress } = ctx;
  const t0 = Date.parse('2030-01-01T00:00:00Z');
  const setups = sizes.map((size) => {
    const { store, log } = freshStore(cleanup, `sched-${size}`);
    const group = store.groups.create({ name: 'sched', isAdmin: false });
    const created = new Date(t0);
    store.transaction(() => {
      for (let i = 0; i < size; i++) {
        store.tasks.create(
          {
            groupId: group.id,
            prompt: `task ${i}`,
            schedule:
              i < due
                ? { kind: 'interval', everyMs: 60_000 }
                : { kind: 'interval', everyMs: 365 * 86_400_000 },
            contextMode: 'isolated',
          },
          created,
        );
      }
    });
    let clock = t0;
    const scheduler = new Scheduler({
      tasks: store.tasks,
      runTask: async () => ({ ok: true, summary: 'done' }),
      now: () => new Date(clock),
      log,
    });
    return {
      size,
      scheduler,
      advance: () => (clock += 60_000),
      samples: /** @type {number[]} */ ([]),
    };
  });
  const warmup = 5;
  for (let i = 0; i < ticks + warmup; i++) {
    if (i % 10 === 0) progress(`fig 7 tick ${i}/${ticks + warmup}`);
    for (const s of setups) {
      s.advance();
      const start = performance.now();
      const report = await s.scheduler.tick();
      const ms = performance.now() - start;
      if (report.ran.length !== due) {
        throw new Error(
          `a tick among ${s.size} tasks ran ${report.ran.length} tasks, expected ${due}`,
        );
      }
      if (i >= warmup) s.samples.push(ms);
    }
  }
  return setups.map((s) => ({ size: s.size, tick: summarize(s.samples) }));
}
