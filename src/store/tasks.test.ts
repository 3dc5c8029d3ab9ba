import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Schedule } from '../scheduler/schedule.js';
import { Store } from './store.js';
import { capText, DUE_QUERY, MAX_RUN_TEXT_BYTES, TaskStore, type NewTask } from './tasks.js';

const t0 = new Date('2026-03-01T12:00:00.000Z');
const minutes = (n: number): Date => new Date(t0.getTime() + n * 60_000);

const daily9: Schedule = { kind: 'cron', expr: '0 9 * * *', timezone: 'Europe/Berlin' };
const hourly: Schedule = { kind: 'interval', everyMs: 3_600_000 };
const onceAt = (d: Date): Schedule => ({
  kind: 'once',
  at: d.toISOString(),
  timezone: 'Europe/Berlin',
});

describe('TaskStore', () => {
  let store: Store;
  let tasks: TaskStore;
  let groupId: number;
  const task = (over: Partial<NewTask> = {}): NewTask => ({
    groupId,
    prompt: 'summarise my inbox',
    schedule: hourly,
    contextMode: 'group',
    ...over,
  });

  beforeEach(() => {
    store = Store.open(':memory:');
    tasks = new TaskStore(store.db);
    groupId = store.groups.create({ name: 'main', isAdmin: true }).id;
  });
  afterEach(() => {
    store.close();
  });

  describe('create', () => {
    it.each<{ name: string; schedule: Schedule; nextRunAt: string }>([
      {
        name: 'a cron task at its next slot',
        schedule: daily9,
        nextRunAt: '2026-03-02T08:00:00.000Z',
      },
      {
        name: 'an interval task one interval from now',
        schedule: hourly,
        nextRunAt: '2026-03-01T13:00:00.000Z',
      },
      {
        name: 'a once task at its time',
        schedule: onceAt(minutes(30)),
        nextRunAt: '2026-03-01T12:30:00.000Z',
      },
    ])('stores $name, active', ({ schedule, nextRunAt }) => {
      const created = tasks.create(task({ schedule, contextMode: 'isolated' }), t0);
      expect(created).toEqual({
        id: expect.any(Number),
        groupId,
        prompt: 'summarise my inbox',
        schedule,
        contextMode: 'isolated',
        status: 'active',
        createdAt: t0.toISOString(),
        nextRunAt,
        lastRunAt: null,
      });
      expect(tasks.byId(created.id)).toEqual(created);
    });

    it('refuses an empty prompt, saying what a prompt is for', () => {
      expect(() => tasks.create(task({ prompt: '  ' }), t0)).toThrow(
        /needs a prompt: say what the agent should do/,
      );
    });

    it('refuses a task for a group that does not exist', () => {
      expect(() => tasks.create(task({ groupId: 999 }), t0)).toThrow(/FOREIGN KEY/);
    });

    it('refuses a cron schedule that never runs (not validated)', () => {
      expect(() =>
        tasks.create(task({ schedule: { kind: 'cron', expr: '0 0 30 2 *', timezone: 'UTC' } }), t0),
      ).toThrow(/never runs; check it with parseSchedule/);
    });
  });

  describe('lists', () => {
    it("lists one group's tasks, or all, in creation order", () => {
      const other = store.groups.create({ name: 'family', isAdmin: false }).id;
      const a = tasks.create(task({ prompt: 'a' }), t0);
      const b = tasks.create(task({ prompt: 'b', groupId: other }), t0);
      const c = tasks.create(task({ prompt: 'c' }), t0);
      expect(tasks.listForGroup(groupId).map((x) => x.id)).toEqual([a.id, c.id]);
      expect(tasks.listForGroup(other).map((x) => x.id)).toEqual([b.id]);
      expect(tasks.listAll().map((x) => x.id)).toEqual([a.id, b.id, c.id]);
    });

    it('lists upcoming active tasks soonest first', () => {
      const later = tasks.create(task({ schedule: onceAt(minutes(90)) }), t0);
      const sooner = tasks.create(task({ schedule: onceAt(minutes(10)) }), t0);
      const paused = tasks.create(task({ schedule: onceAt(minutes(5)) }), t0);
      tasks.setStatus(paused.id, 'paused', t0);
      expect(tasks.upcoming(10).map((x) => x.id)).toEqual([sooner.id, later.id]);
    });

    it('returns undefined for a task that does not exist', () => {
      expect(tasks.byId(42)).toBeUndefined();
    });
  });

  describe('setStatus', () => {
    it('pauses: no next run until resumed', () => {
      const created = tasks.create(task(), t0);
      const paused = tasks.setStatus(created.id, 'paused', minutes(10));
      expect(paused).toMatchObject({ ok: true, task: { status: 'paused', nextRunAt: null } });
    });

    it('resumes with the next run computed from the time of resuming', () => {
      const created = tasks.create(task({ schedule: daily9 }), t0);
      tasks.setStatus(created.id, 'paused', t0);
      const resumed = tasks.setStatus(created.id, 'active', new Date('2026-03-05T10:00:00Z'));
      expect(resumed).toMatchObject({
        ok: true,
        task: { status: 'active', nextRunAt: '2026-03-06T08:00:00.000Z' },
      });
    });

    it('refuses to resume a once task whose time passed while paused', () => {
      const created = tasks.create(task({ schedule: onceAt(minutes(5)) }), t0);
      tasks.setStatus(created.id, 'paused', t0);
      const resumed = tasks.setStatus(created.id, 'active', minutes(10));
      expect(resumed).toEqual({
        ok: false,
        reason: expect.stringMatching(/time passed while it was paused; update its schedule/),
      });
      expect(tasks.byId(created.id)?.status).toBe('paused');
    });

    it('cancels for good: a cancelled task cannot be resumed', () => {
      const created = tasks.create(task(), t0);
      expect(tasks.setStatus(created.id, 'cancelled', t0)).toMatchObject({
        ok: true,
        task: { status: 'cancelled', nextRunAt: null },
      });
      expect(tasks.setStatus(created.id, 'active', t0)).toEqual({
        ok: false,
        reason: expect.stringMatching(
          /is cancelled and cannot change any more; schedule a new task/,
        ),
      });
    });

    it('keeps an active task as it is when asked to resume it', () => {
      const created = tasks.create(task(), t0);
      expect(tasks.setStatus(created.id, 'active', minutes(30))).toEqual({
        ok: true,
        task: created,
      });
    });

    it('says when there is no such task', () => {
      expect(tasks.setStatus(77, 'paused', t0)).toEqual({
        ok: false,
        reason: 'there is no task 77',
      });
    });
  });

  describe('update', () => {
    it('changes the prompt and context mode and keeps the next run', () => {
      const created = tasks.create(task(), t0);
      const updated = tasks.update(
        created.id,
        { prompt: 'water the plants', contextMode: 'isolated' },
        minutes(5),
      );
      expect(updated).toEqual({
        ok: true,
        task: { ...created, prompt: 'water the plants', contextMode: 'isolated' },
      });
    });

    it('recomputes the next run of an active task when its schedule changes', () => {
      const created = tasks.create(task({ schedule: hourly }), t0);
      const updated = tasks.update(created.id, { schedule: daily9 }, t0);
      expect(updated).toMatchObject({
        ok: true,
        task: { schedule: daily9, nextRunAt: '2026-03-02T08:00:00.000Z' },
      });
    });

    it('changes the schedule of a paused task without scheduling it', () => {
      const created = tasks.create(task({ schedule: daily9 }), t0);
      tasks.setStatus(created.id, 'paused', t0);
      const updated = tasks.update(created.id, { schedule: hourly }, t0);
      expect(updated).toMatchObject({
        ok: true,
        task: { schedule: hourly, status: 'paused', nextRunAt: null },
      });
      expect(tasks.setStatus(created.id, 'active', t0)).toMatchObject({
        task: { nextRunAt: '2026-03-01T13:00:00.000Z' },
      });
    });

    it.each<[string, Schedule]>([
      ['interval to once', onceAt(minutes(45))],
      ['interval to cron', daily9],
    ])('switches the schedule kind (%s), clearing the old columns', (_, schedule) => {
      const created = tasks.create(task({ schedule: hourly }), t0);
      tasks.update(created.id, { schedule }, t0);
      expect(tasks.byId(created.id)?.schedule).toEqual(schedule);
    });

    it('refuses an empty prompt and a finished task', () => {
      const created = tasks.create(task(), t0);
      expect(tasks.update(created.id, { prompt: '' }, t0)).toMatchObject({
        ok: false,
        reason: /prompt is empty/,
      });
      tasks.setStatus(created.id, 'cancelled', t0);
      expect(tasks.update(created.id, { prompt: 'x' }, t0)).toMatchObject({
        ok: false,
        reason: /is cancelled; schedule a new task/,
      });
    });
  });

  describe('due', () => {
    it('returns active tasks due at or before now, most overdue first, up to the limit', () => {
      const late = tasks.create(task({ schedule: onceAt(minutes(1)) }), t0);
      const onTime = tasks.create(task({ schedule: onceAt(minutes(2)) }), t0);
      tasks.create(task({ schedule: onceAt(minutes(3)) }), t0);
      const paused = tasks.create(task({ schedule: onceAt(minutes(1)) }), t0);
      tasks.setStatus(paused.id, 'paused', t0);
      expect(tasks.due(minutes(2), 10).map((x) => x.id)).toEqual([late.id, onTime.id]);
      expect(tasks.due(minutes(2), 1).map((x) => x.id)).toEqual([late.id]);
      expect(tasks.due(t0, 10)).toEqual([]);
    });

    it('reads through the next-run index, so tasks not due cost nothing', () => {
      for (let i = 0; i < 10; i++) tasks.create(task({ schedule: onceAt(minutes(1)) }), t0);
      // The other 9,990 in one statement: through create() they would take seconds.
      store.db
        .prepare(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9990)
           INSERT INTO tasks (group_id, prompt, schedule_kind, every_ms, context_mode, status,
             created_at, next_run_at)
           SELECT ?, 'later', 'interval', 3600000, 'group', 'active', ?,
             strftime('%Y-%m-%dT%H:%M:%fZ', ?, '+' || i || ' minutes') FROM n`,
        )
        .run(groupId, t0.toISOString(), minutes(60).toISOString());
      expect(tasks.listAll()).toHaveLength(10_000);
      const plan = store.db
        .prepare(`EXPLAIN QUERY PLAN ${DUE_QUERY}`)
        .all(minutes(2).toISOString(), 100) as Array<{ detail: string }>;
      const details = plan.map((p) => p.detail);
      expect(details).toEqual([
        expect.stringMatching(/^SEARCH tasks USING INDEX tasks_next_run \(next_run_at<\?\)$/),
      ]);
      expect(details.join(' ')).not.toMatch(/TEMP B-TREE|SCAN/);
      expect(tasks.due(minutes(2), 100)).toHaveLength(10);
    });
  });

  describe('runs', () => {
    it('starts a run by moving the task to its next run and recording it as running', () => {
      const created = tasks.create(task(), t0);
      const due = created.nextRunAt ?? '';
      const runId = tasks.markRunStarted(created.id, {
        dueAt: due,
        nextRunAt: minutes(120),
        now: minutes(61),
      });
      expect(runId).toEqual(expect.any(Number));
      expect(tasks.byId(created.id)).toMatchObject({
        status: 'active',
        nextRunAt: minutes(120).toISOString(),
        lastRunAt: minutes(61).toISOString(),
      });
      expect(tasks.recentRuns(created.id)).toEqual([
        {
          id: runId,
          taskId: created.id,
          startedAt: minutes(61).toISOString(),
          finishedAt: null,
          status: 'running',
          summary: null,
          error: null,
        },
      ]);
    });

    it('completes a task that has no next run', () => {
      const created = tasks.create(task({ schedule: onceAt(minutes(1)) }), t0);
      tasks.markRunStarted(created.id, {
        dueAt: created.nextRunAt ?? '',
        nextRunAt: null,
        now: minutes(1),
      });
      expect(tasks.byId(created.id)).toMatchObject({ status: 'completed', nextRunAt: null });
      expect(tasks.due(minutes(100), 10)).toEqual([]);
    });

    it('does not start a run of a task that moved on since it was read', () => {
      const created = tasks.create(task(), t0);
      const claim = { dueAt: created.nextRunAt ?? '', nextRunAt: minutes(120), now: minutes(60) };
      expect(tasks.markRunStarted(created.id, claim)).toEqual(expect.any(Number));
      expect(tasks.markRunStarted(created.id, claim)).toBeUndefined();
      const paused = tasks.create(task(), t0);
      tasks.setStatus(paused.id, 'paused', t0);
      expect(
        tasks.markRunStarted(paused.id, {
          dueAt: created.nextRunAt ?? '',
          nextRunAt: null,
          now: minutes(60),
        }),
      ).toBeUndefined();
      expect(tasks.recentRuns(paused.id)).toEqual([]);
    });

    it('finishes a run with its status, summary and error, newest run first', () => {
      const created = tasks.create(task(), t0);
      const first = tasks.markRunStarted(created.id, {
        dueAt: created.nextRunAt ?? '',
        nextRunAt: minutes(120),
        now: minutes(60),
      });
      tasks.markRunFinished(first ?? 0, {
        status: 'ok',
        summary: 'inbox is empty',
        now: minutes(61),
      });
      const second = tasks.markRunStarted(created.id, {
        dueAt: minutes(120).toISOString(),
        nextRunAt: minutes(180),
        now: minutes(120),
      });
      tasks.markRunFinished(second ?? 0, {
        status: 'error',
        error: 'model unreachable',
        now: minutes(121),
      });
      expect(
        tasks.recentRuns(created.id).map(({ status, summary, error, finishedAt }) => ({
          status,
          summary,
          error,
          finishedAt,
        })),
      ).toEqual([
        {
          status: 'error',
          summary: null,
          error: 'model unreachable',
          finishedAt: minutes(121).toISOString(),
        },
        {
          status: 'ok',
          summary: 'inbox is empty',
          error: null,
          finishedAt: minutes(61).toISOString(),
        },
      ]);
      expect(tasks.recentRuns(created.id, 1)).toHaveLength(1);
    });

    it('caps a long summary and error at 2 KB', () => {
      const created = tasks.create(task(), t0);
      const runId = tasks.markRunStarted(created.id, {
        dueAt: created.nextRunAt ?? '',
        nextRunAt: minutes(120),
        now: minutes(60),
      });
      tasks.markRunFinished(runId ?? 0, {
        status: 'ok',
        summary: 'x'.repeat(10_000),
        error: 'é'.repeat(5000),
        now: minutes(61),
      });
      const [run] = tasks.recentRuns(created.id);
      expect(Buffer.byteLength(run?.summary ?? '')).toBeLessThanOrEqual(MAX_RUN_TEXT_BYTES);
      expect(Buffer.byteLength(run?.error ?? '')).toBeLessThanOrEqual(MAX_RUN_TEXT_BYTES);
      expect(run?.summary?.endsWith('…')).toBe(true);
    });

    it('records a skipped run without counting it as the last run', () => {
      const created = tasks.create(task(), t0);
      const runId = tasks.markRunSkipped(
        created.id,
        { dueAt: created.nextRunAt ?? '', nextRunAt: minutes(180), now: minutes(150) },
        'missed while the host was down',
      );
      expect(tasks.byId(created.id)).toMatchObject({
        nextRunAt: minutes(180).toISOString(),
        lastRunAt: null,
      });
      expect(tasks.recentRuns(created.id)).toEqual([
        {
          id: runId,
          taskId: created.id,
          startedAt: minutes(150).toISOString(),
          finishedAt: minutes(150).toISOString(),
          status: 'skipped',
          summary: 'missed while the host was down',
          error: null,
        },
      ]);
    });

    it('closes runs a stopped host left running, as errors', () => {
      const created = tasks.create(task(), t0);
      tasks.markRunStarted(created.id, {
        dueAt: created.nextRunAt ?? '',
        nextRunAt: minutes(120),
        now: minutes(60),
      });
      expect(tasks.failUnfinishedRuns(minutes(200), 'the host stopped during this run')).toBe(1);
      expect(tasks.recentRuns(created.id)).toMatchObject([
        {
          status: 'error',
          error: 'the host stopped during this run',
          finishedAt: minutes(200).toISOString(),
        },
      ]);
      expect(tasks.failUnfinishedRuns(minutes(201), 'again')).toBe(0);
    });

    it('sets a one-off due again when its claimed run never got a queue slot', () => {
      const created = tasks.create(task({ schedule: onceAt(minutes(30)) }), t0);
      const runId = tasks.markRunStarted(created.id, {
        dueAt: created.nextRunAt ?? '',
        nextRunAt: null,
        now: minutes(31),
      });
      expect(runId).toBeDefined();
      expect(tasks.byId(created.id)).toMatchObject({ status: 'completed', nextRunAt: null });

      expect(tasks.requeueUnstartedRuns()).toBe(1);

      expect(tasks.byId(created.id)).toMatchObject({
        status: 'active',
        nextRunAt: minutes(30).toISOString(),
      });
      expect(tasks.recentRuns(created.id)).toEqual([]);
      expect(tasks.failUnfinishedRuns(minutes(40), 'the host stopped during this run')).toBe(0);
    });

    it('keeps a run that got its slot as started: after a crash it is an error, not run again', () => {
      const created = tasks.create(task({ schedule: onceAt(minutes(30)) }), t0);
      tasks.markRunStarted(created.id, {
        dueAt: created.nextRunAt ?? '',
        nextRunAt: null,
        now: minutes(31),
      });
      tasks.markRunInSlot(created.id, minutes(32));

      expect(tasks.requeueUnstartedRuns()).toBe(0);
      expect(tasks.failUnfinishedRuns(minutes(40), 'the host stopped during this run')).toBe(1);
      expect(tasks.byId(created.id)).toMatchObject({ status: 'completed' });
    });

    it('deletes a group with its tasks and their runs', () => {
      const created = tasks.create(task(), t0);
      tasks.markRunStarted(created.id, {
        dueAt: created.nextRunAt ?? '',
        nextRunAt: minutes(120),
        now: minutes(60),
      });
      store.db.prepare('DELETE FROM groups WHERE id = ?').run(groupId);
      expect(tasks.listAll()).toEqual([]);
      expect(tasks.recentRuns(created.id)).toEqual([]);
    });
  });
});

describe('capText', () => {
  it.each([
    ['short text, unchanged', 'hello', 10, 'hello'],
    ['text exactly at the cap, unchanged', 'abcde', 5, 'abcde'],
    ['long ASCII, cut and marked', 'abcdefghij', 6, 'abc…'],
    ['multi-byte text, cut on a character boundary', 'ééééé', 8, 'éé…'],
    ['emoji, never split', '😀😀😀', 9, '😀…'],
  ])('keeps %s', (_, text, maxBytes, expected) => {
    const capped = capText(text, maxBytes);
    expect(capped).toBe(expected);
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(maxBytes);
  });
});
