import { describe, expect, it } from 'vitest';
import { describeSchedule, parseSchedule, type Schedule } from './schedule.js';

const now = new Date('2026-03-01T12:00:00Z');

describe('parseSchedule', () => {
  it.each<{ name: string; input: unknown; defaultTimezone?: string; schedule: Schedule }>([
    {
      name: 'a cron expression with its timezone',
      input: { kind: 'cron', expr: '0 9 * * 1-5', timezone: 'Europe/Berlin' },
      schedule: { kind: 'cron', expr: '0 9 * * 1-5', timezone: 'Europe/Berlin' },
    },
    {
      name: 'a cron expression with extra spaces, normalised',
      input: { kind: 'cron', expr: '  */15   *  * * * ', timezone: 'UTC' },
      schedule: { kind: 'cron', expr: '*/15 * * * *', timezone: 'UTC' },
    },
    {
      name: 'a cron nickname',
      input: { kind: 'cron', expr: '@daily', timezone: 'America/New_York' },
      schedule: { kind: 'cron', expr: '@daily', timezone: 'America/New_York' },
    },
    {
      name: 'a cron expression without a timezone, in the default one',
      input: { kind: 'cron', expr: '30 7 * * *' },
      defaultTimezone: 'Asia/Tokyo',
      schedule: { kind: 'cron', expr: '30 7 * * *', timezone: 'Asia/Tokyo' },
    },
    {
      name: 'an interval of one minute (the shortest)',
      input: { kind: 'interval', everyMs: 60_000 },
      schedule: { kind: 'interval', everyMs: 60_000 },
    },
    {
      name: 'a once-time with a UTC offset, stored as UTC',
      input: { kind: 'once', at: '2026-05-01T09:00:00+02:00' },
      schedule: { kind: 'once', at: '2026-05-01T07:00:00.000Z', timezone: null },
    },
    {
      name: 'a once-time in Z with milliseconds',
      input: { kind: 'once', at: '2026-05-01T07:00:00.250Z' },
      schedule: { kind: 'once', at: '2026-05-01T07:00:00.250Z', timezone: null },
    },
    {
      name: 'a local once-time with its timezone (summer time, +02:00)',
      input: { kind: 'once', at: '2026-05-01T09:00', timezone: 'Europe/Berlin' },
      schedule: { kind: 'once', at: '2026-05-01T07:00:00.000Z', timezone: 'Europe/Berlin' },
    },
    {
      name: 'a local once-time in winter (+01:00)',
      input: { kind: 'once', at: '2026-03-02T09:00:00', timezone: 'Europe/Berlin' },
      schedule: { kind: 'once', at: '2026-03-02T08:00:00.000Z', timezone: 'Europe/Berlin' },
    },
    {
      name: 'a local once-time without a timezone, in the default one',
      input: { kind: 'once', at: '2026-03-02T09:00' },
      defaultTimezone: 'America/New_York',
      schedule: { kind: 'once', at: '2026-03-02T14:00:00.000Z', timezone: 'America/New_York' },
    },
    {
      name: 'a local time that repeats when the clocks go back, as its first occurrence',
      input: { kind: 'once', at: '2026-10-25T02:30', timezone: 'Europe/Berlin' },
      schedule: { kind: 'once', at: '2026-10-25T00:30:00.000Z', timezone: 'Europe/Berlin' },
    },
  ])('accepts $name', ({ input, defaultTimezone, schedule }) => {
    expect(parseSchedule(input, { now, defaultTimezone })).toEqual({ ok: true, schedule });
  });

  it.each<{ name: string; input: unknown; error: RegExp; defaultTimezone?: string }>([
    { name: 'a non-object', input: 'every day', error: /schedule must be an object: .*"cron"/ },
    {
      name: 'an unknown kind',
      input: { kind: 'weekly' },
      error: /unknown schedule kind "weekly": .*"kind": "cron", "expr": "0 9 \* \* 1-5"/,
    },
    {
      name: 'a cron expression with a bad minute',
      input: { kind: 'cron', expr: '61 9 * * *', timezone: 'UTC' },
      error:
        /invalid cron expression "61 9 \* \* \*": Invalid value for minute: 61; use five fields .* e\.g\. "0 9 \* \* 1-5"/,
    },
    {
      name: 'a cron expression of words',
      input: { kind: 'cron', expr: 'every day at nine', timezone: 'UTC' },
      error: /invalid cron expression "every day at nine": it has 4 fields; use five fields/,
    },
    {
      name: 'a cron expression with seconds',
      input: { kind: 'cron', expr: '0 0 9 * * *', timezone: 'UTC' },
      error: /it has 6 fields; use five fields \(minute hour day-of-month month day-of-week\)/,
    },
    {
      name: 'a date given as a cron expression',
      input: { kind: 'cron', expr: '2026-05-01T09:00', timezone: 'UTC' },
      error: /it has 1 fields/,
    },
    {
      name: 'a cron expression that never matches',
      input: { kind: 'cron', expr: '0 0 30 2 *', timezone: 'UTC' },
      error: /"0 0 30 2 \*" never matches a date/,
    },
    {
      name: 'a cron schedule without an expression',
      input: { kind: 'cron', timezone: 'UTC' },
      error: /needs "expr", a cron expression, e\.g\./,
    },
    {
      name: 'a cron schedule without a timezone and no default',
      input: { kind: 'cron', expr: '0 9 * * *' },
      error: /a cron schedule needs a timezone, e\.g\. .*"timezone": "Europe\/Berlin"/,
    },
    {
      name: 'an unknown timezone',
      input: { kind: 'cron', expr: '0 9 * * *', timezone: 'Mars/Olympus' },
      error: /unknown timezone "Mars\/Olympus": use an IANA name such as "Europe\/Berlin"/,
    },
    {
      name: 'a UTC offset given as a timezone',
      input: { kind: 'cron', expr: '0 9 * * *', timezone: '+02:00' },
      error: /unknown timezone "\+02:00"/,
    },
    {
      name: 'an interval under a minute',
      input: { kind: 'interval', everyMs: 59_999 },
      error:
        /interval 59999 ms is too short: "everyMs" is whole milliseconds from 60000 .* "everyMs": 3600000/,
    },
    {
      name: 'an interval as a string',
      input: { kind: 'interval', everyMs: '3600000' },
      error: /invalid interval "3600000": "everyMs" is whole milliseconds/,
    },
    {
      name: 'an interval of a fraction',
      input: { kind: 'interval', everyMs: 60_000.5 },
      error: /invalid interval 60000.5/,
    },
    {
      name: 'an interval longer than a year',
      input: { kind: 'interval', everyMs: 367 * 86_400_000 },
      error: /too long \(use a cron schedule instead\)/,
    },
    {
      name: 'a once-time in the past',
      input: { kind: 'once', at: '2026-03-01T11:59:59Z' },
      error:
        /once-time "2026-03-01T11:59:59Z" is in the past \(it is now 2026-03-01T12:00:00.000Z\); give a future time, e\.g\. "2026-03-01T13:00:00Z"/,
    },
    {
      name: 'a once-time exactly now',
      input: { kind: 'once', at: '2026-03-01T12:00:00Z' },
      error: /is in the past/,
    },
    {
      name: 'a local once-time in the past, with a local example',
      input: { kind: 'once', at: '2026-03-01T12:30', timezone: 'Europe/Berlin' },
      error:
        /is in the past \(it is now 2026-03-01T13:00 in Europe\/Berlin\); give a future time, e\.g\. "2026-03-01T14:00" with timezone Europe\/Berlin/,
    },
    {
      name: 'a once-time in words',
      input: { kind: 'once', at: 'tomorrow at 9' },
      error: /invalid once-time "tomorrow at 9": "at" is an ISO date-time with an offset, e\.g\./,
    },
    {
      name: 'a once-time that is not a real date',
      input: { kind: 'once', at: '2026-02-30T09:00Z' },
      error: /"2026-02-30T09:00Z" is not a real date and time/,
    },
    {
      name: 'a once-time with an impossible offset',
      input: { kind: 'once', at: '2026-05-01T09:00+15:00' },
      error: /impossible UTC offset/,
    },
    {
      name: 'a local once-time without a timezone and no default',
      input: { kind: 'once', at: '2026-05-01T09:00' },
      error: /has no UTC offset and no timezone: .*"timezone": "Europe\/Berlin"/,
    },
    {
      name: 'a local once-time the clocks skip (spring forward)',
      input: { kind: 'once', at: '2026-03-29T02:30', timezone: 'Europe/Berlin' },
      error:
        /2026-03-29T02:30 does not exist in Europe\/Berlin: the clocks skip it for daylight saving time; pick another time, e\.g\. "2026-03-29T03:30"/,
    },
  ])(
    'refuses $name, saying what is wrong and how to fix it',
    ({ input, error, defaultTimezone }) => {
      const result = parseSchedule(input, { now, defaultTimezone });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatch(error);
    },
  );

  it('prefers an explicit timezone to the default', () => {
    expect(
      parseSchedule(
        { kind: 'cron', expr: '0 9 * * *', timezone: 'UTC' },
        { now, defaultTimezone: 'Asia/Tokyo' },
      ),
    ).toEqual({ ok: true, schedule: { kind: 'cron', expr: '0 9 * * *', timezone: 'UTC' } });
  });
});

describe('describeSchedule', () => {
  it.each<[Schedule, string]>([
    [
      { kind: 'cron', expr: '0 9 * * 1-5', timezone: 'Europe/Berlin' },
      'cron "0 9 * * 1-5" (Europe/Berlin)',
    ],
    [{ kind: 'interval', everyMs: 3_600_000 }, 'every 1h'],
    [{ kind: 'interval', everyMs: 90 * 60_000 + 500 }, 'every 1h 30m 500ms'],
    [{ kind: 'interval', everyMs: 2 * 86_400_000 }, 'every 2d'],
    [
      { kind: 'once', at: '2026-05-01T07:00:00.000Z', timezone: 'Europe/Berlin' },
      'once at 2026-05-01T09:00 (Europe/Berlin)',
    ],
    [
      { kind: 'once', at: '2026-05-01T07:00:00.000Z', timezone: null },
      'once at 2026-05-01T07:00:00.000Z',
    ],
  ])('describes %j as %j', (schedule, text) => {
    expect(describeSchedule(schedule)).toBe(text);
  });
});
