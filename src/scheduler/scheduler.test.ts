import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { TaskStore, type NewTask, type Task } from '../store/tasks.js';
import type { Schedule } from './schedule.js';
import { Scheduler, type MissedRuns, type RunTask } from './scheduler.js';

const t0 = new Date('2026-03-01T12:00:00.000Z');
const minutes = (n: number): Date => new Date(t0.getTime() + n * 60_000);
const hourly: Schedule = { kind: 'interval', everyMs: 3_600_000 };
const onceAt = (d: Date): Schedule => ({ kind: 'once', at: d.toISOString(), timezone: null });

interface Deferred {
  promise: Promise<{ ok: boolean; summary: string }>;
  resolve: (r: { ok: boolean; summary: string }) => void;
}
const deferred = (): Deferred => {
  let resolve!: Deferred['resolve'];
  const promise = new Promise<{ ok: boolean; summary: string }>((r) => (resolve = r));
  return { promise, resolve };
};

describe('Scheduler', () => {
  let store: Store;
  let tasks: TaskStore;
  let groupId: number;
  let clock: Date;
  let calls: Task[];
  let logLines: Array<Record<string, unknown>>;
  const log = () =>
    pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  const succeed: RunTask = async (task) => {
    calls.push(task);
    return { ok: true, summary: `did: ${task.prompt}` };
  };
  const schedulerWith = (runTask: RunTask = succeed, missedRuns?: MissedRuns, batchSize?: number) =>
    new Scheduler({ tasks, runTask, now: () => clock, log: log(), missedRuns, batchSize });
  const create = (over: Partial<NewTask> = {}, at = t0): Task =>
    tasks.create(
      { groupId, prompt: 'check the weather', schedule: hourly, contextMode: 'group', ...over },
      at,
    );

  beforeEach(() => {
    store = Store.open(':memory:');
    tasks = new TaskStore(store.db);
    groupId = store.groups.create({ name: 'main', isAdmin: true }).id;
    clock = t0;
    calls = [];
    logLines = [];
  });
  afterEach(() => {
    store.close();
  });

  it('runs due tasks and records each run; tasks not yet due wait', async () => {
    const scheduler = schedulerWith();
    const due = create({ schedule: onceAt(minutes(1)), prompt: 'due' });
    const later = create({ schedule: onceAt(minutes(10)), prompt: 'later' });
    clock = minutes(2);
    expect(await scheduler.tick()).toEqual({ ran: [due.id], skipped: [] });
    expect(calls.map((t) => t.id)).toEqual([due.id]);
    expect(tasks.recentRuns(due.id)).toMatchObject([
      { status: 'ok', summary: 'did: due', error: null, startedAt: minutes(2).toISOString() },
    ]);
    expect(tasks.byId(due.id)).toMatchObject({ status: 'completed', nextRunAt: null });
    expect(tasks.byId(later.id)).toMatchObject({ status: 'active', lastRunAt: null });
    expect(tasks.recentRuns(later.id)).toEqual([]);
  });

  it('does not run paused or cancelled tasks', async () => {
    const scheduler = schedulerWith();
    const paused = create({ schedule: onceAt(minutes(1)) });
    const cancelled = create({ schedule: hourly });
    tasks.setStatus(paused.id, 'paused', t0);
    tasks.setStatus(cancelled.id, 'cancelled', t0);
    clock = minutes(24 * 60);
    expect(await scheduler.tick()).toEqual({ ran: [], skipped: [] });
    expect(calls).toEqual([]);
  });

  it('moves the task to its next run before running it', async () => {
    const task = create({ schedule: hourly });
    let seenDuringRun: Task | undefined;
    const scheduler = schedulerWith(async (t) => {
      seenDuringRun = tasks.byId(t.id);
      return { ok: true, summary: 'ok' };
    });
    clock = minutes(61);
    await scheduler.tick();
    expect(seenDuringRun).toMatchObject({
      nextRunAt: minutes(120).toISOString(),
      lastRunAt: minutes(61).toISOString(),
    });
    expect(tasks.byId(task.id)?.nextRunAt).toBe(minutes(120).toISOString());
  });

  it('runs a task due at each of its slots, once per slot', async () => {
    const task = create({ schedule: hourly });
    const scheduler = schedulerWith();
    for (const at of [60, 61, 119, 120, 150, 180]) {
      clock = minutes(at);
      await scheduler.tick();
    }
    expect(calls.map((t) => t.id)).toEqual([task.id, task.id, task.id]);
  });

  it('runs a daily 09:00 Berlin task at 08:00Z, then at 07:00Z after the spring change', async () => {
    const berlin9: Schedule = { kind: 'cron', expr: '0 9 * * *', timezone: 'Europe/Berlin' };
    const task = create({ schedule: berlin9 }, new Date('2026-03-27T12:00:00Z'));
    clock = new Date('2026-03-27T12:00:00Z');
    const scheduler = schedulerWith();
    const ranAt: string[] = [];
    for (const at of [
      '2026-03-28T07:59:00Z',
      '2026-03-28T08:00:00Z',
      '2026-03-29T06:59:00Z',
      '2026-03-29T07:00:00Z',
    ]) {
      clock = new Date(at);
      if ((await scheduler.tick()).ran.includes(task.id)) ranAt.push(at);
    }
    expect(ranAt).toEqual(['2026-03-28T08:00:00Z', '2026-03-29T07:00:00Z']);
    expect(tasks.byId(task.id)?.nextRunAt).toBe('2026-03-30T07:00:00.000Z');
  });

  describe('runs missed while the host was down', () => {
    it('runs a missed task once, not once per missed slot, then from now on', async () => {
      const task = create({ schedule: hourly }); // due at +60, +120, ... while the host is down
      clock = minutes(5 * 60 + 30);
      const scheduler = schedulerWith(); // the host comes back
      expect((await scheduler.tick()).ran).toEqual([task.id]);
      expect(await scheduler.tick()).toEqual({ ran: [], skipped: [] });
      expect(calls).toHaveLength(1);
      expect(tasks.byId(task.id)?.nextRunAt).toBe(minutes(6 * 60).toISOString());
    });

    it('runs a missed daily cron task once and next on the following day', async () => {
      const daily: Schedule = { kind: 'cron', expr: '0 9 * * *', timezone: 'Europe/Berlin' };
      const task = create({ schedule: daily }); // first run 2026-03-02T08:00Z
      clock = new Date('2026-03-05T12:00:00Z');
      const scheduler = schedulerWith();
      await scheduler.tick();
      expect(calls).toHaveLength(1);
      expect(tasks.byId(task.id)?.nextRunAt).toBe('2026-03-06T08:00:00.000Z');
    });

    it('records a missed run as skipped when so configured, and runs later slots', async () => {
      const task = create({ schedule: hourly });
      clock = minutes(5 * 60 + 30);
      const scheduler = schedulerWith(succeed, 'skip');
      expect(await scheduler.tick()).toEqual({ ran: [], skipped: [task.id] });
      expect(calls).toEqual([]);
      expect(tasks.recentRuns(task.id)).toMatchObject([
        { status: 'skipped', summary: 'missed while the host was down' },
      ]);
      expect(tasks.byId(task.id)).toMatchObject({
        status: 'active',
        nextRunAt: minutes(6 * 60).toISOString(),
      });
      clock = minutes(6 * 60);
      expect(await scheduler.tick()).toEqual({ ran: [task.id], skipped: [] });
    });

    it('completes a skipped one-shot', async () => {
      const task = create({ schedule: onceAt(minutes(1)) });
      clock = minutes(60);
      await schedulerWith(succeed, 'skip').tick();
      expect(tasks.byId(task.id)).toMatchObject({ status: 'completed', nextRunAt: null });
    });
  });

  describe('failures', () => {
    it('records a failed run as an error and keeps the task scheduled', async () => {
      const task = create({ schedule: hourly });
      clock = minutes(60);
      await schedulerWith(async () => ({ ok: false, summary: 'the model is unreachable' })).tick();
      expect(tasks.recentRuns(task.id)).toMatchObject([
        { status: 'error', error: 'the model is unreachable', summary: null },
      ]);
      expect(tasks.byId(task.id)).toMatchObject({
        status: 'active',
        nextRunAt: minutes(120).toISOString(),
      });
    });

    it('records a throwing runTask as an error, logs it, and still runs the other tasks', async () => {
      const bad = create({ prompt: 'bad' });
      const good = create({ prompt: 'good' });
      clock = minutes(60);
      const scheduler = schedulerWith(async (t) => {
        if (t.prompt === 'bad') throw new Error('cell runtime vanished');
        return succeed(t);
      });
      expect((await scheduler.tick()).ran).toEqual([bad.id, good.id]);
      expect(tasks.recentRuns(bad.id)).toMatchObject([
        { status: 'error', error: 'cell runtime vanished' },
      ]);
      expect(tasks.recentRuns(good.id)).toMatchObject([{ status: 'ok' }]);
      expect(logLines).toContainEqual(
        expect.objectContaining({ msg: 'task run threw', taskId: bad.id }),
      );
    });

    it('never rejects, even when the store is unusable', async () => {
      create();
      clock = minutes(60);
      const scheduler = schedulerWith();
      store.close();
      await expect(scheduler.tick()).resolves.toEqual({ ran: [], skipped: [] });
      expect(logLines).toContainEqual(
        expect.objectContaining({ msg: 'scheduler could not read due tasks', level: 50 }),
      );
      store = Store.open(':memory:'); // for afterEach
    });

    it('pauses a task whose stored schedule cannot be computed, instead of failing every tick', async () => {
      const task = create({ schedule: hourly });
      store.db
        .prepare(
          `UPDATE tasks SET schedule_kind = 'cron', every_ms = NULL, cron_expr = 'not a cron', timezone = 'UTC' WHERE id = ?`,
        )
        .run(task.id);
      clock = minutes(60);
      await schedulerWith().tick();
      expect(tasks.byId(task.id)).toMatchObject({ status: 'paused', nextRunAt: null });
      expect(calls).toEqual([]);
    });
  });

  describe('overlap', () => {
    it('never runs a task twice at once: concurrent and later ticks leave a running task alone', async () => {
      const task = create({ schedule: { kind: 'interval', everyMs: 60_000 } });
      const runs: Deferred[] = [];
      const scheduler = schedulerWith((t) => {
        calls.push(t);
        const d = deferred();
        runs.push(d);
        return d.promise;
      });
      clock = minutes(1);
      const first = scheduler.tick();
      const second = scheduler.tick(); // while the first tick's run is in progress
      expect(calls).toHaveLength(1);
      expect(await second).toEqual({ ran: [], skipped: [] });

      clock = minutes(5); // the task is due again, its run still going
      expect(await scheduler.tick()).toEqual({ ran: [], skipped: [] });
      expect(calls).toHaveLength(1);

      runs[0]?.resolve({ ok: true, summary: 'done' });
      expect(await first).toEqual({ ran: [task.id], skipped: [] });
      const third = scheduler.tick();
      expect(calls).toHaveLength(2); // once, though several slots passed
      runs[1]?.resolve({ ok: true, summary: 'done' });
      await third;
      expect(tasks.recentRuns(task.id).map((r) => r.status)).toEqual(['ok', 'ok']);
    });

    it('does not let a long run hold up other tasks that fall due', async () => {
      const slow = create({ prompt: 'slow' });
      const scheduler = schedulerWith((t) => {
        if (t.prompt !== 'slow') return succeed(t);
        calls.push(t);
        return new Promise(() => undefined); // never ends
      });
      clock = minutes(60);
      void scheduler.tick();
      const quick = create({ prompt: 'quick', schedule: onceAt(minutes(61)) }, minutes(60));
      clock = minutes(61);
      expect(await scheduler.tick()).toEqual({ ran: [quick.id], skipped: [] });
      expect(calls.map((t) => t.id)).toEqual([slow.id, quick.id]);
    });

    it('takes at most batchSize due tasks per tick', async () => {
      const ids = [create().id, create().id, create().id];
      const scheduler = schedulerWith(succeed, 'run-once', 2);
      clock = minutes(60);
      expect((await scheduler.tick()).ran).toEqual(ids.slice(0, 2));
      expect((await scheduler.tick()).ran).toEqual(ids.slice(2));
    });
  });

  describe('start and stop', () => {
    it('ticks at once on start, closes runs a previous host left running, and waits for runs on stop', async () => {
      const left = create();
      tasks.markRunStarted(left.id, {
        dueAt: left.nextRunAt ?? '',
        nextRunAt: minutes(120),
        now: minutes(60),
      });
      tasks.markRunInSlot(left.id, minutes(61));
      const due = create({ schedule: onceAt(minutes(100)) });
      clock = minutes(100);
      const run = deferred();
      const scheduler = schedulerWith((t) => {
        calls.push(t);
        return run.promise;
      });
      scheduler.start(60_000);
      expect(calls.map((t) => t.id)).toEqual([due.id]);
      expect(tasks.recentRuns(left.id)).toMatchObject([
        { status: 'error', error: 'the host stopped during this run' },
      ]);
      const stopped = scheduler.stop();
      run.resolve({ ok: true, summary: 'done' });
      await stopped;
      expect(tasks.recentRuns(due.id)).toMatchObject([{ status: 'ok', summary: 'done' }]);
    });

    it('runs a one-off whose claimed run never got a queue slot before the host stopped', async () => {
      const waiting = create({ schedule: onceAt(minutes(30)) });
      tasks.markRunStarted(waiting.id, {
        dueAt: waiting.nextRunAt ?? '',
        nextRunAt: null,
        now: minutes(31),
      });
      clock = minutes(100);
      const scheduler = schedulerWith((t) => {
        calls.push(t);
        return Promise.resolve({ ok: true, summary: 'ran after all' });
      });
      scheduler.start(60_000);
      await scheduler.stop();
      expect(calls.map((t) => t.id)).toEqual([waiting.id]);
      expect(tasks.recentRuns(waiting.id)).toMatchObject([
        { status: 'ok', summary: 'ran after all' },
      ]);
    });

    it('refuses a second start and a bad interval', async () => {
      const scheduler = schedulerWith();
      expect(() => scheduler.start(0)).toThrow(/positive whole number of ms, got 0/);
      scheduler.start(60_000);
      expect(() => scheduler.start(60_000)).toThrow(/already started/);
      await scheduler.stop();
    });
  });
});
