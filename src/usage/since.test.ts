import { describe, expect, it } from 'vitest';
import { parseSince } from './since.js';

const now = new Date('2026-12-03T12:00:00Z');

describe('--since', () => {
  it.each([
    ['24h', '2026-12-02T12:00:00.000Z'],
    ['1h', '2026-12-03T11:00:00.000Z'],
    ['7d', '2026-11-26T12:00:00.000Z'],
    ['30d', '2026-11-03T12:00:00.000Z'],
    ['2026-12-01', '2026-12-01T00:00:00.000Z'],
    ['2026-12-03', '2026-12-03T00:00:00.000Z'],
  ])('reads %s as from %s', (text, iso) => {
    expect(parseSince(text, now)).toEqual({ ok: true, since: new Date(iso) });
  });

  it.each([
    ['7', 'is not a span or a day'],
    ['7days', 'is not a span or a day'],
    ['-7d', 'is not a span or a day'],
    ['0d', 'from 1h up to 3660d'],
    ['99999d', 'from 1h up to 3660d'],
    ['2026-02-30', 'there is no such day'],
    ['2026-13-01', 'there is no such day'],
    ['2026-12-04', 'that day is in the future'],
    ['yesterday', 'is not a span or a day'],
  ])('refuses %s saying %s, and what to write instead', (text, why) => {
    const r = parseSince(text, now);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toContain(why);
    expect(r.problem).toContain('like 24h, 7d or 30d, or a day like 2026-12-01');
  });
});
