import { Cron } from 'croner';
import type { Schedule } from './schedule.js';

/**
 * A croner pattern for `expr` in `timezone`, never started (no function is given, so croner
 * sets no timer). Five fields only: a seconds field would allow runs more often than the
 * one-minute floor that interval schedules have. Throws croner's error for a bad pattern.
 *
 * Across daylight-saving changes croner follows Vixie cron: a fixed-time job (one value in
 * each of minute and hour, e.g. `30 2 * * *`) whose time is skipped by spring-forward runs
 * at the first valid time after the gap, the same day (03:00 in Europe/Berlin); when the
 * time repeats at fall-back it runs once, at the first occurrence. A job with a wildcard,
 * step, range or list in minute or hour skips a time in the gap and runs on both
 * occurrences of a repeated time.
 */
export function cronFor(expr: string, timezone: string): Cron {
  return new Cron(expr, { timezone, mode: '5-part' });
}

/** The first run strictly after `after`, or null when the schedule never runs again. */
export function nextRun(schedule: Schedule, after: Date): Date | null {
  switch (schedule.kind) {
    case 'cron':
      return cronFor(schedule.expr, schedule.timezone).nextRun(after);
    case 'interval':
      return new Date(after.getTime() + schedule.everyMs);
    case 'once': {
      const at = new Date(schedule.at);
      return at.getTime() > after.getTime() ? at : null;
    }
  }
}

/**
 * The first run of a new (or newly scheduled) task. A one-shot whose time passed between
 * validation and storing still runs, at once, rather than silently never.
 */
export function firstRun(schedule: Schedule, now: Date): Date | null {
  return schedule.kind === 'once' ? new Date(schedule.at) : nextRun(schedule, now);
}

/**
 * The run after the one that was due at `dueAt` and is starting `now` (perhaps late, perhaps
 * after the host was down). Always later than `now`, so slots missed in between are not run
 * one by one. An interval keeps its rhythm: the next slot on the grid `dueAt + k * everyMs`,
 * so a task ticked a little late does not drift later with every run.
 */
export function runAfter(schedule: Schedule, dueAt: Date, now: Date): Date | null {
  if (schedule.kind !== 'interval') return schedule.kind === 'once' ? null : nextRun(schedule, now);
  const late = Math.max(0, now.getTime() - dueAt.getTime());
  const slots = Math.floor(late / schedule.everyMs) + 1;
  return new Date(dueAt.getTime() + slots * schedule.everyMs);
}
