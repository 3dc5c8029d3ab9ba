import { describe, expect, it } from 'vitest';
import { firstRun, nextRun, runAfter } from './next-run.js';
import type { Schedule } from './schedule.js';

const berlin = (expr: string): Schedule => ({ kind: 'cron', expr, timezone: 'Europe/Berlin' });

/** The next `count` runs after `from`, as UTC ISO strings. */
function runsFrom(schedule: Schedule, from: string, count: number): string[] {
  const runs: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < count; i++) {
    const next = nextRun(schedule, after);
    if (next === null) break;
    runs.push(next.toISOString());
    after = next;
  }
  return runs;
}

const localHour = (iso: string, timezone: string): string =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));

describe('nextRun for cron schedules', () => {
  it.each([
    {
      name: 'weekdays 09:00 in Berlin from a Saturday (winter, UTC+1)',
      schedule: berlin('0 9 * * 1-5'),
      after: '2026-01-03T12:00:00Z',
      runs: ['2026-01-05T08:00:00.000Z', '2026-01-06T08:00:00.000Z'],
    },
    {
      name: 'the same moment in New York (UTC-5)',
      schedule: { kind: 'cron', expr: '0 9 * * *', timezone: 'America/New_York' } as Schedule,
      after: '2026-01-03T12:00:00Z',
      runs: ['2026-01-03T14:00:00.000Z', '2026-01-04T14:00:00.000Z'],
    },
    {
      name: 'Kolkata, a half-hour offset (UTC+5:30)',
      schedule: { kind: 'cron', expr: '0 9 * * *', timezone: 'Asia/Kolkata' } as Schedule,
      after: '2026-01-03T12:00:00Z',
      runs: ['2026-01-04T03:30:00.000Z'],
    },
    {
      name: 'a run exactly at `after` (strictly later only)',
      schedule: berlin('0 9 * * *'),
      after: '2026-01-05T08:00:00Z',
      runs: ['2026-01-06T08:00:00.000Z'],
    },
  ])('honours the timezone: $name', ({ schedule, after, runs }) => {
    expect(runsFrom(schedule, after, runs.length)).toEqual(runs);
  });

  it('runs a daily 09:00 Berlin task at 09:00 local across the spring change (08:00Z, then 07:00Z)', () => {
    // Clocks go from 02:00 CET to 03:00 CEST on Sunday 29 March 2026.
    const runs = runsFrom(berlin('0 9 * * *'), '2026-03-26T12:00:00Z', 5);
    expect(runs).toEqual([
      '2026-03-27T08:00:00.000Z',
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
    ]);
    expect(runs.map((r) => localHour(r, 'Europe/Berlin'))).toEqual(Array(5).fill('09:00'));
  });

  it('runs a daily 09:00 Berlin task at 09:00 local across the autumn change (07:00Z, then 08:00Z)', () => {
    // Clocks go from 03:00 CEST back to 02:00 CET on Sunday 25 October 2026.
    const runs = runsFrom(berlin('0 9 * * *'), '2026-10-23T12:00:00Z', 4);
    expect(runs).toEqual([
      '2026-10-24T07:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
      '2026-10-27T08:00:00.000Z',
    ]);
    expect(runs.map((r) => localHour(r, 'Europe/Berlin'))).toEqual(Array(4).fill('09:00'));
  });

  it('runs a daily 02:30 task at 03:00 on the spring-forward day, when 02:30 does not exist', () => {
    // croner's rule for fixed-time jobs (as Vixie cron): a skipped time runs at the first
    // valid time after the gap, the same day. The day is not lost.
    const runs = runsFrom(berlin('30 2 * * *'), '2026-03-28T12:00:00Z', 2);
    expect(runs).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    expect(runs.map((r) => localHour(r, 'Europe/Berlin'))).toEqual(['03:00', '02:30']);
  });

  it('runs a daily 02:30 task once on the fall-back day, at the first of the two 02:30s', () => {
    const runs = runsFrom(berlin('30 2 * * *'), '2026-10-24T12:00:00Z', 2);
    expect(runs).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('skips the missing hour for a stepped task on the spring-forward day', () => {
    // A job with a step in minute or hour is an interval job to croner: times in the gap are skipped.
    expect(runsFrom(berlin('*/30 * * * *'), '2026-03-29T00:15:00Z', 3)).toEqual([
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST; 02:00 and 02:30 do not exist
      '2026-03-29T01:30:00.000Z',
    ]);
  });
});

describe('nextRun for interval and once schedules', () => {
  it('adds the interval to `after`, in real time whatever the clocks do', () => {
    const daily: Schedule = { kind: 'interval', everyMs: 86_400_000 };
    // 24 hours after 09:00 CET on the day before the change is 10:00 CEST.
    expect(nextRun(daily, new Date('2026-03-28T08:00:00Z'))?.toISOString()).toBe(
      '2026-03-29T08:00:00.000Z',
    );
  });

  it.each([
    ['before its time', '2026-05-01T06:59:59Z', '2026-05-01T07:00:00.000Z'],
    ['at its time', '2026-05-01T07:00:00Z', null],
    ['after its time', '2026-05-02T00:00:00Z', null],
  ])('gives a once schedule its time only %s', (_, after, expected) => {
    const once: Schedule = { kind: 'once', at: '2026-05-01T07:00:00.000Z', timezone: null };
    expect(nextRun(once, new Date(after))?.toISOString() ?? null).toBe(expected);
  });
});

describe('firstRun', () => {
  it('runs a once task whose time just passed at once, rather than never', () => {
    const once: Schedule = { kind: 'once', at: '2026-05-01T07:00:00.000Z', timezone: null };
    expect(firstRun(once, new Date('2026-05-01T07:00:01Z'))?.toISOString()).toBe(
      '2026-05-01T07:00:00.000Z',
    );
  });

  it('starts an interval one interval from now', () => {
    expect(
      firstRun(
        { kind: 'interval', everyMs: 60_000 },
        new Date('2026-05-01T07:00:00Z'),
      )?.toISOString(),
    ).toBe('2026-05-01T07:01:00.000Z');
  });
});

describe('runAfter', () => {
  const hourly: Schedule = { kind: 'interval', everyMs: 3_600_000 };
  it.each([
    ['on time', '2026-05-01T10:00:00Z', '2026-05-01T11:00:00.000Z'],
    ['a few seconds late (no drift)', '2026-05-01T10:00:07Z', '2026-05-01T11:00:00.000Z'],
    [
      'three and a half hours late (one run, then the next slot)',
      '2026-05-01T13:30:00Z',
      '2026-05-01T14:00:00.000Z',
    ],
    ['exactly one interval late', '2026-05-01T11:00:00Z', '2026-05-01T12:00:00.000Z'],
  ])('keeps an interval on its grid when the run starts %s', (_, now, expected) => {
    expect(runAfter(hourly, new Date('2026-05-01T10:00:00Z'), new Date(now))?.toISOString()).toBe(
      expected,
    );
  });

  it('takes the next cron slot after now, not after the missed one', () => {
    const next = runAfter(
      berlin('0 9 * * *'),
      new Date('2026-01-05T08:00:00Z'),
      new Date('2026-01-08T12:00:00Z'),
    );
    expect(next?.toISOString()).toBe('2026-01-09T08:00:00.000Z');
  });

  it('ends a once schedule after its run', () => {
    const once: Schedule = { kind: 'once', at: '2026-05-01T07:00:00.000Z', timezone: null };
    expect(runAfter(once, new Date(once.at), new Date('2026-05-01T07:00:01Z'))).toBeNull();
  });
});
