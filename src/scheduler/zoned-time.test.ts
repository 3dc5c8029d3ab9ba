import { describe, expect, it } from 'vitest';
import {
  checkTimezone,
  formatLocal,
  instantsOf,
  isRealLocalTime,
  localTimeAt,
  pastTheGap,
  type LocalDateTime,
} from './zoned-time.js';

const at = (text: string): LocalDateTime => {
  const [date = '', time = ''] = text.split('T');
  const [year, month, day] = date.split('-').map(Number);
  const [hour, minute] = time.split(':').map(Number);
  return {
    year: year ?? 0,
    month: month ?? 0,
    day: day ?? 0,
    hour: hour ?? 0,
    minute: minute ?? 0,
    second: 0,
  };
};

describe('instantsOf', () => {
  it.each([
    ['an ordinary winter time', '2026-01-15T09:00', 'Europe/Berlin', ['2026-01-15T08:00:00.000Z']],
    ['an ordinary summer time', '2026-07-15T09:00', 'Europe/Berlin', ['2026-07-15T07:00:00.000Z']],
    ['a time in the spring-forward gap', '2026-03-29T02:30', 'Europe/Berlin', []],
    [
      'a time in the repeated autumn hour',
      '2026-10-25T02:30',
      'Europe/Berlin',
      ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z'],
    ],
    ['a time in New York', '2026-03-08T12:00', 'America/New_York', ['2026-03-08T16:00:00.000Z']],
    ['a time in UTC', '2026-03-29T02:30', 'UTC', ['2026-03-29T02:30:00.000Z']],
  ])('finds %s', (_, local, timezone, expected) => {
    expect(instantsOf(at(local), timezone).map((d) => d.toISOString())).toEqual(expected);
  });
});

describe('pastTheGap', () => {
  it('moves a skipped time forward by the length of the gap', () => {
    const instant = pastTheGap(at('2026-03-29T02:30'), 'Europe/Berlin');
    expect(formatLocal(localTimeAt(instant, 'Europe/Berlin'))).toBe('2026-03-29T03:30');
  });
});

describe('checkTimezone', () => {
  it.each([
    ['Europe/Berlin', true],
    ['UTC', true],
    ['America/Argentina/Buenos_Aires', true],
    ['Mars/Olympus', false],
    ['', false],
    ['+02:00', false],
  ])('says %j is known: %s', (timezone, known) => {
    expect(checkTimezone(timezone)).toBe(known);
  });
});

describe('isRealLocalTime', () => {
  it.each([
    ['2026-02-28T23:59', true],
    ['2028-02-29T00:00', true],
    ['2026-02-29T00:00', false],
    ['2026-04-31T09:00', false],
    ['2026-13-01T09:00', false],
    ['2026-01-01T24:00', false],
    ['2026-01-01T23:60', false],
  ])('says %s is real: %s', (local, real) => {
    expect(isRealLocalTime(at(local))).toBe(real);
  });
});
