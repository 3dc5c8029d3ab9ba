import { describe, expect, it } from 'vitest';
import {
  EMPTY_SCHEDULE,
  formatAge,
  formatBytes,
  formatDuration,
  inZone,
  scheduleOf,
} from './schedule-form.js';

describe('scheduleOf', () => {
  it.each([
    [
      { kind: 'cron', expr: '0 9 * * 1-5' },
      { kind: 'cron', expr: '0 9 * * 1-5' },
    ],
    [
      { kind: 'cron', expr: '0 9 * * *', timezone: ' Asia/Tokyo ' },
      { kind: 'cron', expr: '0 9 * * *', timezone: 'Asia/Tokyo' },
    ],
    [
      { kind: 'interval', everyMinutes: '90' },
      { kind: 'interval', everyMs: 5_400_000 },
    ],
    [
      { kind: 'interval', everyMinutes: 'often' },
      { kind: 'interval', everyMs: 'often' },
    ],
    [
      { kind: 'once', at: '2026-05-01T09:00' },
      { kind: 'once', at: '2026-05-01T09:00' },
    ],
  ] as const)('turns %o into the schedule the host checks', (form, schedule) => {
    expect(scheduleOf({ ...EMPTY_SCHEDULE, ...form })).toEqual(schedule);
  });
});

describe('formatting', () => {
  it("shows an instant in the owner's zone, not the browser's", () => {
    expect(inZone('2026-03-02T08:00:00.000Z', 'Europe/Berlin', 'en-GB')).toBe(
      'Mon, 2 Mar 2026, 09:00',
    );
    expect(inZone('2026-03-02T08:00:00.000Z', 'America/New_York', 'en-GB')).toBe(
      'Mon, 2 Mar 2026, 03:00',
    );
  });

  it('says unknown for memory that was not measured', () => {
    expect(formatBytes(null)).toBe('unknown');
    expect(formatBytes(14)).toBe('14 B');
    expect(formatBytes(512 * 1024)).toBe('512 KB');
    expect(formatBytes(42 * 1024 * 1024)).toBe('42.0 MB');
  });

  it('gives ages and durations in words a person reads at a glance', () => {
    const now = new Date('2026-03-02T10:00:00Z');
    expect(formatAge('2026-03-02T09:59:48Z', now)).toBe('12 s');
    expect(formatAge('2026-03-02T06:55:00Z', now)).toBe('3 h 5 min');
    expect(formatDuration('2026-03-02T09:00:00Z', '2026-03-02T09:00:02.5Z')).toBe('2.5 s');
    expect(formatDuration('2026-03-02T09:00:00Z', '2026-03-02T09:02:30Z')).toBe('2 min 30 s');
    expect(formatDuration('2026-03-02T09:00:00Z', null)).toBe('running');
  });
});
