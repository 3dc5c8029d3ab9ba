import type { AuditSink } from '../audit/audit-event.js';
import type { NewTaskRequest, SchedulePreview } from '../channels/web/dashboard-types-groups.js';
import type { Config } from '../config.js';
import { firstRun, nextRun } from '../scheduler/next-run.js';
import { describeSchedule, parseSchedule } from '../scheduler/schedule.js';
import type { Store } from '../store/store.js';
import type { Task } from '../store/tasks.js';

/** Runs a task as the scheduler does; never rejects (a failure is `ok: false`). */
export type RunTask = (task: Task) => Promise<{ ok: boolean; summary: string }>;

const PREVIEW_RUNS = 3;

/** Whether a schedule is valid (the schedule_task tool's own messages) and its next runs. */
export function previewSchedule(input: unknown, timezone: string, now: Date): SchedulePreview {
  const parsed = parseSchedule(input, { now, defaultTimezone: timezone });
  if (!parsed.ok) return { ok: false, error: `Invalid schedule: ${parsed.error}` };
  const runs: string[] = [];
  let next = firstRun(parsed.schedule, now);
  while (next !== null && runs.length < PREVIEW_RUNS) {
    runs.push(next.toISOString());
    next = nextRun(parsed.schedule, next);
  }
  return {
    ok: true,
    description: describeSchedule(parsed.schedule),
    timezone: parsed.schedule.kind === 'cron' ? parsed.schedule.timezone : timezone,
    nextRuns: runs,
  };
}

/** A new task from the owner, checked and capped as one the assistant schedules. */
export function createOwnerTask(
  deps: { store: Store; config: Config; audit: AuditSink },
  request: NewTaskRequest,
  by: string,
  now: Date,
): { ok: true; id: number } | { ok: false; reason: string; field: string } {
  const { store, config } = deps;
  const group = store.groups.byName(request.group);
  if (!group) return { ok: false, reason: `no group named "${request.group}"`, field: 'group' };
  if (request.prompt.trim() === '') {
    return {
      ok: false,
      reason: 'say what the agent should do when the task runs',
      field: 'prompt',
    };
  }
  const parsed = parseSchedule(request.schedule, { now, defaultTimezone: config.timezone });
  if (!parsed.ok)
    return { ok: false, reason: `Invalid schedule: ${parsed.error}`, field: 'schedule' };
  const created = store.tasks.createWithinCap(
    { groupId: group.id, prompt: request.prompt, schedule: parsed.schedule, contextMode: 'group' },
    config.maxTasksPerGroup,
    now,
  );
  if (!created.ok) {
    return {
      ok: false,
      reason: `Not scheduled in group "${group.name}": ${created.reason}.`,
      field: 'group',
    };
  }
  deps.audit.append({
    type: 'task_change',
    group: group.name,
    task: String(created.task.id),
    action: 'created',
    by,
  });
  return { ok: true, id: created.task.id };
}

/**
 * Run an active task once, now, without moving its schedule: the run is recorded in its
 * history like a scheduled one (claimed, run through `runTask`, finished). Resolves at once;
 * the run goes on in the background.
 */
export function runTaskNow(
  deps: { store: Store; audit: AuditSink; runTask: RunTask },
  id: number,
  by: string,
  now: () => Date,
): { ok: true } | { ok: false; reason: string } {
  const task = deps.store.tasks.byId(id);
  if (!task) return { ok: false, reason: `no task #${id}` };
  if (task.status !== 'active' || task.nextRunAt === null) {
    return { ok: false, reason: `task #${id} is ${task.status}; resume it first to run it` };
  }
  const runId = deps.store.tasks.markRunStarted(id, {
    dueAt: task.nextRunAt,
    nextRunAt: new Date(task.nextRunAt),
    now: now(),
  });
  if (runId === undefined) {
    return { ok: false, reason: `task #${id} is starting a run already; try again in a moment` };
  }
  deps.audit.append({
    type: 'task_change',
    group: deps.store.groups.byId(task.groupId)?.name ?? `#${task.groupId}`,
    task: String(id),
    action: 'updated',
    by,
    summary: 'run now',
  });
  const finish = (outcome: { ok: boolean; summary: string }) =>
    deps.store.tasks.markRunFinished(
      runId,
      outcome.ok
        ? { status: 'ok', summary: outcome.summary, now: now() }
        : { status: 'error', error: outcome.summary, now: now() },
    );
  void deps.runTask(task).then(
    (outcome) => finish(outcome),
    (err: unknown) =>
      finish({ ok: false, summary: err instanceof Error ? err.message : String(err) }),
  );
  return { ok: true };
}
