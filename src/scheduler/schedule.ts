import { cronFor } from './next-run.js';
import {
  checkTimezone,
  formatLocal,
  instantsOf,
  isRealLocalTime,
  localTimeAt,
  pastTheGap,
  type LocalDateTime,
} from './zoned-time.js';

/** When a task runs. Every instant is UTC; a timezone says how the owner meant it. */
export type Schedule =
  | { kind: 'cron'; expr: string; timezone: string }
  | { kind: 'interval'; everyMs: number }
  /** `at` is a UTC ISO instant; `timezone` is the zone the time was written in, if any. */
  | { kind: 'once'; at: string; timezone: string | null };

export type ScheduleResult = { ok: true; schedule: Schedule } | { ok: false; error: string };

export interface ParseScheduleOptions {
  /** A once-time at or before this is refused. */
  now: Date;
  /** Used when a cron schedule or a local once-time names no timezone (the owner's zone). */
  defaultTimezone?: string;
}

export const MIN_INTERVAL_MS = 60_000;
export const MAX_INTERVAL_MS = 366 * 86_400_000;

const CRON_EXAMPLE = '{ "kind": "cron", "expr": "0 9 * * 1-5", "timezone": "Europe/Berlin" }';
const SHAPE_HELP =
  'a schedule is { "kind": "cron", "expr", "timezone" }, { "kind": "interval", "everyMs" } ' +
  `or { "kind": "once", "at", "timezone"? }, e.g. ${CRON_EXAMPLE}`;
const TIMEZONE_HELP = 'use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"';

const fail = (error: string): ScheduleResult => ({ ok: false, error });

/**
 * Check a schedule given by a person or a model and normalise it. Every refusal says what
 * is wrong and shows a schedule that would be accepted.
 */
export function parseSchedule(input: unknown, options: ParseScheduleOptions): ScheduleResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail(`schedule must be an object: ${SHAPE_HELP}`);
  }
  const fields = input as Record<string, unknown>;
  switch (fields.kind) {
    case 'cron':
      return parseCron(fields, options);
    case 'interval':
      return parseInterval(fields);
    case 'once':
      return parseOnce(fields, options);
    default:
      return fail(`unknown schedule kind ${JSON.stringify(fields.kind)}: ${SHAPE_HELP}`);
  }
}

function parseTimezone(
  value: unknown,
  fallback: string | undefined,
): { ok: true; timezone: string | null } | { ok: false; error: string } {
  if (value === undefined || value === null) {
    return { ok: true, timezone: fallback ?? null };
  }
  if (typeof value !== 'string' || value.trim() === '' || !checkTimezone(value.trim())) {
    return { ok: false, error: `unknown timezone ${JSON.stringify(value)}: ${TIMEZONE_HELP}` };
  }
  return { ok: true, timezone: value.trim() };
}

function parseCron(fields: Record<string, unknown>, options: ParseScheduleOptions): ScheduleResult {
  const zone = parseTimezone(fields.timezone, options.defaultTimezone);
  if (!zone.ok) return fail(zone.error);
  if (zone.timezone === null) {
    return fail(`a cron schedule needs a timezone, e.g. ${CRON_EXAMPLE}`);
  }
  if (typeof fields.expr !== 'string' || fields.expr.trim() === '') {
    return fail(`a cron schedule needs "expr", a cron expression, e.g. ${CRON_EXAMPLE}`);
  }
  const expr = fields.expr.trim().replace(/\s+/g, ' ');
  const help =
    'use five fields (minute hour day-of-month month day-of-week), ' +
    'e.g. "0 9 * * 1-5" for 09:00 on weekdays or "*/15 * * * *" for every 15 minutes';
  // croner would read a date such as "2026-05-01T09:00" as a one-shot; that is a once schedule.
  const fieldCount = expr.split(' ').length;
  if (!expr.startsWith('@') && fieldCount !== 5) {
    return fail(`invalid cron expression "${expr}": it has ${fieldCount} fields; ${help}`);
  }
  let next: Date | null;
  try {
    next = cronFor(expr, zone.timezone).nextRun(options.now);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/^CronPattern: /, '');
    return fail(`invalid cron expression "${expr}": ${reason}; ${help}`);
  }
  if (next === null) {
    return fail(`cron expression "${expr}" never matches a date (e.g. 30 February); ${help}`);
  }
  return { ok: true, schedule: { kind: 'cron', expr, timezone: zone.timezone } };
}

function parseInterval(fields: Record<string, unknown>): ScheduleResult {
  const everyMs = fields.everyMs;
  const help = `"everyMs" is whole milliseconds from ${MIN_INTERVAL_MS} (one minute) to ${MAX_INTERVAL_MS} (366 days), e.g. { "kind": "interval", "everyMs": 3600000 } for hourly`;
  if (typeof everyMs !== 'number' || !Number.isInteger(everyMs)) {
    return fail(`invalid interval ${JSON.stringify(everyMs) ?? 'undefined'}: ${help}`);
  }
  if (everyMs < MIN_INTERVAL_MS) {
    return fail(`interval ${everyMs} ms is too short: ${help}`);
  }
  if (everyMs > MAX_INTERVAL_MS) {
    return fail(`interval ${everyMs} ms is too long (use a cron schedule instead): ${help}`);
  }
  return { ok: true, schedule: { kind: 'interval', everyMs } };
}

const AT_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?$/i;

function parseOnce(fields: Record<string, unknown>, options: ParseScheduleOptions): ScheduleResult {
  const at = typeof fields.at === 'string' ? fields.at.trim() : fields.at;
  const zone = parseTimezone(fields.timezone, undefined);
  if (!zone.ok) return fail(zone.error);
  const help =
    '"at" is an ISO date-time with an offset, e.g. "2026-05-01T09:00:00+02:00", ' +
    'or a local date-time with a timezone, e.g. { "kind": "once", "at": "2026-05-01T09:00", "timezone": "Europe/Berlin" }';
  const match = typeof at === 'string' ? AT_PATTERN.exec(at) : null;
  if (typeof at !== 'string' || match === null) {
    return fail(`invalid once-time ${JSON.stringify(at) ?? 'undefined'}: ${help}`);
  }
  const num = (i: number): number => Number(match[i] ?? 0);
  const local: LocalDateTime = {
    year: num(1),
    month: num(2),
    day: num(3),
    hour: num(4),
    minute: num(5),
    second: num(6),
  };
  const ms = Number((match[7] ?? '').padEnd(3, '0'));
  if (!isRealLocalTime(local)) {
    return fail(`once-time "${at}" is not a real date and time: ${help}`);
  }
  const offset = match[8];
  let instant: Date;
  let timezone = zone.timezone;
  if (offset !== undefined) {
    const offsetMs = offsetToMs(offset);
    if (offsetMs === null) return fail(`once-time "${at}" has an impossible UTC offset: ${help}`);
    instant = new Date(
      Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, ms) -
        offsetMs,
    );
  } else {
    timezone ??= options.defaultTimezone ?? null;
    if (timezone === null) {
      return fail(`once-time "${at}" has no UTC offset and no timezone: ${help}`);
    }
    // A time that repeats when the clocks go back means its first occurrence.
    const [first] = instantsOf(local, timezone);
    if (first === undefined) {
      const suggestion = formatLocal(localTimeAt(pastTheGap(local, timezone), timezone));
      return fail(
        `${formatLocal(local)} does not exist in ${timezone}: the clocks skip it for daylight ` +
          `saving time; pick another time, e.g. "${suggestion}"`,
      );
    }
    instant = new Date(first.getTime() + ms);
  }
  if (instant.getTime() <= options.now.getTime()) {
    const later = new Date(options.now.getTime() + 3_600_000);
    const [nowText, example] =
      timezone === null
        ? [options.now.toISOString(), `"${later.toISOString().replace(/\.\d{3}Z$/, 'Z')}"`]
        : [
            `${formatLocal(localTimeAt(options.now, timezone))} in ${timezone}`,
            `"${formatLocal({ ...localTimeAt(later, timezone), second: 0 })}" with timezone ${timezone}`,
          ];
    return fail(
      `once-time "${at}" is in the past (it is now ${nowText}); give a future time, e.g. ${example}`,
    );
  }
  return { ok: true, schedule: { kind: 'once', at: instant.toISOString(), timezone } };
}

function offsetToMs(offset: string): number | null {
  if (offset.toUpperCase() === 'Z') return 0;
  const hours = Number(offset.slice(1, 3));
  const minutes = Number(offset.slice(4, 6));
  if (hours > 14 || minutes > 59) return null;
  return (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** A short human form: `cron "0 9 * * 1-5" (Europe/Berlin)`, `every 2h`, `once at ...`. */
export function describeSchedule(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'cron':
      return `cron "${schedule.expr}" (${schedule.timezone})`;
    case 'interval':
      return `every ${formatDuration(schedule.everyMs)}`;
    case 'once':
      return schedule.timezone === null
        ? `once at ${schedule.at}`
        : `once at ${formatLocal(localTimeAt(new Date(schedule.at), schedule.timezone))} (${schedule.timezone})`;
  }
}

function formatDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  let rest = ms;
  const parts: string[] = [];
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${name}`);
    rest -= n * size;
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join(' ');
}
