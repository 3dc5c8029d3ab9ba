import { StoreError, type Db } from './database.js';
import { firstRun, nextRun } from '../scheduler/next-run.js';
import type { Schedule } from '../scheduler/schedule.js';

export type TaskStatus = 'active' | 'paused' | 'cancelled' | 'completed';
/** `group`: the run continues the group's conversation; `isolated`: it starts a fresh one. */
export type ContextMode = 'group' | 'isolated';

export interface Task {
  id: number;
  groupId: number;
  /** What the agent is asked to do when the task runs. */
  prompt: string;
  schedule: Schedule;
  contextMode: ContextMode;
  status: TaskStatus;
  createdAt: string;
  /** UTC ISO; null exactly when the task is not active. */
  nextRunAt: string | null;
  lastRunAt: string | null;
}

export type RunStatus = 'running' | 'ok' | 'error' | 'skipped';

export interface TaskRun {
  id: number;
  taskId: number;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  summary: string | null;
  error: string | null;
}

export interface NewTask {
  groupId: number;
  prompt: string;
  schedule: Schedule;
  contextMode: ContextMode;
}

/** An owner's or model's change to a task: refused with a reason it can act on. */
export type TaskChange = { ok: true; task: Task } | { ok: false; reason: string };

/** Where a started run moves the task: its next run (null: it is finished). */
export interface RunClaim {
  /** The next_run_at the caller saw; the claim fails if the task has moved on since. */
  dueAt: string;
  nextRunAt: Date | null;
  now: Date;
}

export const MAX_RUN_TEXT_BYTES = 2048;

/**
 * Due tasks, through the partial index on next_run_at (which holds only active tasks): the
 * cost grows with the tasks that are due, not with all tasks. Exported for the plan test.
 */
export const DUE_QUERY =
  'SELECT * FROM tasks WHERE next_run_at <= ? ORDER BY next_run_at, id LIMIT ?';

interface TaskRow {
  id: number;
  group_id: number;
  prompt: string;
  schedule_kind: Schedule['kind'];
  cron_expr: string | null;
  every_ms: number | null;
  run_at: string | null;
  timezone: string | null;
  context_mode: ContextMode;
  status: TaskStatus;
  created_at: string;
  next_run_at: string | null;
  last_run_at: string | null;
}

interface RunRow {
  id: number;
  task_id: number;
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  summary: string | null;
  error: string | null;
}

/** The CHECK constraints of the tasks table guarantee each kind's columns are set. */
function present<T>(value: T | null, column: string, r: TaskRow): T {
  if (value === null) {
    throw new StoreError(`task ${r.id} (${r.schedule_kind}) has no ${column}; the row is corrupt`);
  }
  return value;
}

function toSchedule(r: TaskRow): Schedule {
  switch (r.schedule_kind) {
    case 'cron':
      return {
        kind: 'cron',
        expr: present(r.cron_expr, 'cron_expr', r),
        timezone: present(r.timezone, 'timezone', r),
      };
    case 'interval':
      return { kind: 'interval', everyMs: present(r.every_ms, 'every_ms', r) };
    case 'once':
      return { kind: 'once', at: present(r.run_at, 'run_at', r), timezone: r.timezone };
  }
}

const scheduleColumns = (s: Schedule) => ({
  schedule_kind: s.kind,
  cron_expr: s.kind === 'cron' ? s.expr : null,
  every_ms: s.kind === 'interval' ? s.everyMs : null,
  run_at: s.kind === 'once' ? s.at : null,
  timezone: s.kind === 'interval' ? null : s.timezone,
});

const toTask = (r: TaskRow): Task => ({
  id: r.id,
  groupId: r.group_id,
  prompt: r.prompt,
  schedule: toSchedule(r),
  contextMode: r.context_mode,
  status: r.status,
  createdAt: r.created_at,
  nextRunAt: r.next_run_at,
  lastRunAt: r.last_run_at,
});

const toRun = (r: RunRow): TaskRun => ({
  id: r.id,
  taskId: r.task_id,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  status: r.status,
  summary: r.summary,
  error: r.error,
});

/** `text` cut to at most `maxBytes` of UTF-8, on a character boundary, marked when cut. */
export function capText(text: string, maxBytes = MAX_RUN_TEXT_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const marker = '…';
  let end = maxBytes - Buffer.byteLength(marker);
  // Step back off continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + marker;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** Scheduled tasks and the record of their runs. */
export class TaskStore {
  constructor(private readonly db: Db) {}

  /** A new active task. The schedule must come from parseSchedule (a cron that never runs is a bug). */
  create(input: NewTask, now: Date = new Date()): Task {
    if (input.prompt.trim() === '') {
      throw new Error('a task needs a prompt: say what the agent should do when it runs');
    }
    const first = firstRun(input.schedule, now);
    if (first === null) {
      throw new Error(
        `schedule ${JSON.stringify(input.schedule)} never runs; check it with parseSchedule`,
      );
    }
    const row = this.db
      .prepare(
        `INSERT INTO tasks (group_id, prompt, schedule_kind, cron_expr, every_ms, run_at, timezone,
           context_mode, status, created_at, next_run_at)
         VALUES (@group_id, @prompt, @schedule_kind, @cron_expr, @every_ms, @run_at, @timezone,
           @context_mode, 'active', @created_at, @next_run_at)
         RETURNING *`,
      )
      .all({
        group_id: input.groupId,
        prompt: input.prompt,
        ...scheduleColumns(input.schedule),
        context_mode: input.contextMode,
        created_at: now.toISOString(),
        next_run_at: first.toISOString(),
      })[0] as TaskRow;
    return toTask(row);
  }

  /**
   * A new active task, unless the group already has `maxOpen` tasks that may still run
   * (active or paused: a paused task can be resumed, so it counts). Count and insert share
   * one transaction, so two writers cannot both take the last place.
   */
  createWithinCap(input: NewTask, maxOpen: number, now: Date = new Date()): TaskChange {
    return this.db.transaction((): TaskChange => {
      const open = this.countOpen(input.groupId);
      if (open >= maxOpen) {
        return {
          ok: false,
          reason: `the group already has ${open} active or paused tasks, the most it may have (NANOCELL_MAX_TASKS_PER_GROUP=${maxOpen}); cancel one with cancel_task before scheduling another`,
        };
      }
      return { ok: true, task: this.create(input, now) };
    })();
  }

  /** Tasks of a group that may still run: active or paused. */
  countOpen(groupId: number): number {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM tasks WHERE group_id = ? AND status IN ('active', 'paused')`,
      )
      .get(groupId) as { n: number };
    return row.n;
  }

  byId(id: number): Task | undefined {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
    return row && toTask(row);
  }

  listForGroup(groupId: number): Task[] {
    return (
      this.db
        .prepare('SELECT * FROM tasks WHERE group_id = ? ORDER BY id')
        .all(groupId) as TaskRow[]
    ).map(toTask);
  }

  listAll(): Task[] {
    return (this.db.prepare('SELECT * FROM tasks ORDER BY id').all() as TaskRow[]).map(toTask);
  }

  /** Active tasks whose next run is at or before `now`, most overdue first. */
  due(now: Date, limit: number): Task[] {
    return (this.db.prepare(DUE_QUERY).all(now.toISOString(), limit) as TaskRow[]).map(toTask);
  }

  /** The next `limit` active tasks to run, soonest first. */
  upcoming(limit: number): Task[] {
    return (
      this.db
        .prepare(
          'SELECT * FROM tasks WHERE next_run_at IS NOT NULL ORDER BY next_run_at, id LIMIT ?',
        )
        .all(limit) as TaskRow[]
    ).map(toTask);
  }

  /**
   * Pause, resume or cancel. Resuming computes the next run from `now`; a cancelled or
   * completed task stays so (create a new one instead).
   */
  setStatus(
    id: number,
    status: 'active' | 'paused' | 'cancelled',
    now: Date = new Date(),
  ): TaskChange {
    const task = this.byId(id);
    if (!task) return { ok: false, reason: `there is no task ${id}` };
    if (task.status === 'cancelled' || task.status === 'completed') {
      return {
        ok: false,
        reason: `task ${id} is ${task.status} and cannot change any more; schedule a new task instead`,
      };
    }
    if (task.status === status) return { ok: true, task };
    let next: Date | null = null;
    if (status === 'active') {
      next = nextRun(task.schedule, now);
      if (next === null) {
        return {
          ok: false,
          reason: `task ${id} cannot resume: its time passed while it was paused; update its schedule to a future time`,
        };
      }
    }
    return this.write(id, 'UPDATE tasks SET status = ?, next_run_at = ? WHERE id = ?', [
      status,
      iso(next),
      id,
    ]);
  }

  /** Change what a task does or when. A new schedule of an active task takes effect from `now`. */
  update(
    id: number,
    changes: { prompt?: string; schedule?: Schedule; contextMode?: ContextMode },
    now: Date = new Date(),
  ): TaskChange {
    const task = this.byId(id);
    if (!task) return { ok: false, reason: `there is no task ${id}` };
    if (task.status === 'cancelled' || task.status === 'completed') {
      return { ok: false, reason: `task ${id} is ${task.status}; schedule a new task instead` };
    }
    if (changes.prompt !== undefined && changes.prompt.trim() === '') {
      return {
        ok: false,
        reason: 'the prompt is empty: say what the agent should do when it runs',
      };
    }
    const schedule = changes.schedule ?? task.schedule;
    let nextRunAt = task.nextRunAt;
    if (changes.schedule && task.status === 'active') {
      const first = firstRun(schedule, now);
      if (first === null) return { ok: false, reason: 'the new schedule never runs' };
      nextRunAt = first.toISOString();
    }
    const cols = scheduleColumns(schedule);
    return this.write(
      id,
      `UPDATE tasks SET prompt = ?, context_mode = ?, schedule_kind = ?, cron_expr = ?,
         every_ms = ?, run_at = ?, timezone = ?, next_run_at = ? WHERE id = ?`,
      [
        changes.prompt ?? task.prompt,
        changes.contextMode ?? task.contextMode,
        cols.schedule_kind,
        cols.cron_expr,
        cols.every_ms,
        cols.run_at,
        cols.timezone,
        nextRunAt,
        id,
      ],
    );
  }

  /**
   * Start a run of a due task, in one transaction: move the task to its next run (or mark
   * it completed when there is none) and record the run as running. Advancing first means a
   * crash during the run cannot make the task due again at once. Returns the run id, or
   * undefined when the task is no longer due at `dueAt` (paused, changed, or claimed already).
   */
  markRunStarted(taskId: number, claim: RunClaim): number | undefined {
    return this.db.transaction(() => {
      if (!this.advance(taskId, claim, true)) return undefined;
      const row = this.db
        .prepare(
          `INSERT INTO task_runs (task_id, started_at, status, due_at)
           VALUES (?, ?, 'running', ?) RETURNING id`,
        )
        .all(taskId, claim.now.toISOString(), claim.dueAt)[0] as { id: number };
      return row.id;
    })();
  }

  /** Move a due task past a run that is not made (missed while the host was down). */
  markRunSkipped(taskId: number, claim: RunClaim, reason: string): number | undefined {
    return this.db.transaction(() => {
      if (!this.advance(taskId, claim, false)) return undefined;
      const at = claim.now.toISOString();
      const row = this.db
        .prepare(
          `INSERT INTO task_runs (task_id, started_at, finished_at, status, summary)
           VALUES (?, ?, ?, 'skipped', ?) RETURNING id`,
        )
        .all(taskId, at, at, capText(reason))[0] as { id: number };
      return row.id;
    })();
  }

  markRunFinished(
    runId: number,
    outcome: { status: 'ok' | 'error'; summary?: string; error?: string; now: Date },
  ): void {
    this.db
      .prepare(
        `UPDATE task_runs SET status = ?, finished_at = ?, summary = ?, error = ?
         WHERE id = ? AND status = 'running'`,
      )
      .run(
        outcome.status,
        outcome.now.toISOString(),
        outcome.summary === undefined ? null : capText(outcome.summary),
        outcome.error === undefined ? null : capText(outcome.error),
        runId,
      );
  }

  /** Close runs a stopped host left running; returns how many. */
  /** The task's claimed run got its queue slot and is really starting now. */
  markRunInSlot(taskId: number, now: Date): void {
    this.db
      .prepare(
        `UPDATE task_runs SET slot_at = ? WHERE id = (
           SELECT id FROM task_runs WHERE task_id = ? AND status = 'running' AND slot_at IS NULL
           ORDER BY id DESC LIMIT 1)`,
      )
      .run(now.toISOString(), taskId);
  }

  /**
   * After a crash: runs that were claimed but never got a queue slot never ran. Each is
   * removed and its task set due again at the time the run was due (a one-off the claim
   * marked completed becomes active again), so it runs once now. Returns how many.
   */
  requeueUnstartedRuns(): number {
    return this.db.transaction(() => {
      const runs = this.db
        .prepare(
          `SELECT id, task_id, due_at FROM task_runs
           WHERE status = 'running' AND slot_at IS NULL AND due_at IS NOT NULL`,
        )
        .all() as { id: number; task_id: number; due_at: string }[];
      const rearm = this.db.prepare(
        `UPDATE tasks SET next_run_at = @due, status = 'active'
         WHERE id = @id AND status IN ('active', 'completed')
           AND (next_run_at IS NULL OR next_run_at > @due)`,
      );
      const drop = this.db.prepare('DELETE FROM task_runs WHERE id = ?');
      for (const run of runs) {
        rearm.run({ id: run.task_id, due: run.due_at });
        drop.run(run.id);
      }
      return runs.length;
    })();
  }

  failUnfinishedRuns(now: Date, error: string): number {
    return this.db
      .prepare(
        `UPDATE task_runs SET status = 'error', finished_at = ?, error = ? WHERE status = 'running'`,
      )
      .run(now.toISOString(), capText(error)).changes;
  }

  /** A task's latest runs, newest first. */
  recentRuns(taskId: number, limit = 10): TaskRun[] {
    return (
      this.db
        .prepare('SELECT * FROM task_runs WHERE task_id = ? ORDER BY id DESC LIMIT ?')
        .all(taskId, limit) as RunRow[]
    ).map(toRun);
  }

  private advance(taskId: number, claim: RunClaim, ran: boolean): boolean {
    const next = iso(claim.nextRunAt);
    return (
      this.db
        .prepare(
          `UPDATE tasks SET next_run_at = @next, status = @status,
             last_run_at = CASE WHEN @ran THEN @now ELSE last_run_at END
           WHERE id = @id AND status = 'active' AND next_run_at = @due`,
        )
        .run({
          id: taskId,
          next,
          status: next === null ? 'completed' : 'active',
          ran: ran ? 1 : 0,
          now: claim.now.toISOString(),
          due: claim.dueAt,
        }).changes === 1
    );
  }

  private write(id: number, sql: string, params: unknown[]): TaskChange {
    this.db.prepare(sql).run(...params);
    const task = this.byId(id);
    if (!task) return { ok: false, reason: `there is no task ${id}` };
    return { ok: true, task };
  }
}
