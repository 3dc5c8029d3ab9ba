import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { knownTimeZone, systemTimeZone } from './time-zone-name.js';

const dirs: string[] = [];
function linkTo(target: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-tz-'));
  dirs.push(dir);
  const link = path.join(dir, 'localtime');
  fs.symlinkSync(target, link);
  return link;
}

afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('knownTimeZone', () => {
  it.each([
    ['Europe/Berlin', 'Europe/Berlin'],
    ['europe/berlin', 'Europe/Berlin'],
    ['utc', 'UTC'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
  ])('knows %j as %j', (tz, expected) => {
    expect(knownTimeZone(tz)).toBe(expected);
  });

  it('keeps an alias Intl knows as written', () => {
    expect(knownTimeZone('US/Eastern')).toBe('US/Eastern');
    expect(knownTimeZone('Etc/UTC')).toBe('Etc/UTC');
  });

  it.each(['Mars/Olympus_Mons', 'Europe/Berln', '', ' ', 'Europe/Berlin\n', 'x'.repeat(65)])(
    'refuses %j',
    (tz) => {
      expect(knownTimeZone(tz)).toBeUndefined();
    },
  );

  it('builds no Intl formatter for a listed zone or UTC (ICU locale data stays unloaded)', () => {
    const formatter = vi.spyOn(Intl, 'DateTimeFormat');
    expect(knownTimeZone('asia/tokyo')).toBe('Asia/Tokyo');
    expect(knownTimeZone('UTC')).toBe('UTC');
    expect(formatter).not.toHaveBeenCalled();
  });
});

describe('systemTimeZone', () => {
  it('reads the zone /etc/localtime links to', () => {
    expect(systemTimeZone(linkTo('/usr/share/zoneinfo/Europe/Berlin'))).toBe('Europe/Berlin');
    expect(systemTimeZone(linkTo('/var/db/timezone/zoneinfo/Asia/Tokyo'))).toBe('Asia/Tokyo');
  });

  it('reports a link to Etc/UTC as UTC, as Intl does', () => {
    expect(systemTimeZone(linkTo('/usr/share/zoneinfo/Etc/UTC'))).toBe('UTC');
  });

  it("falls back to Intl's default when the file is not a link or names no zone", () => {
    const intl = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(systemTimeZone(path.join(os.tmpdir(), 'no-such-localtime'))).toBe(intl);
    expect(systemTimeZone(linkTo('/usr/share/zoneinfo/Mars/Olympus_Mons'))).toBe(intl);
    expect(systemTimeZone(linkTo('/somewhere/else'))).toBe(intl);
  });
});
