import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskFullTolerantLog, SpaceReserve, isDiskFull } from './disk-full.js';

describe('isDiskFull', () => {
  it.each([
    [Object.assign(new Error('x'), { code: 'ENOSPC' }), true],
    [Object.assign(new Error('x'), { code: 'EDQUOT' }), true],
    [Object.assign(new Error('x'), { code: 'SQLITE_FULL' }), true],
    [new Error('audit', { cause: Object.assign(new Error('w'), { code: 'ENOSPC' }) }), true],
    [Object.assign(new Error('x'), { code: 'EACCES' }), false],
    [new Error('plain'), false],
    [undefined, false],
  ])('%s → %s', (err, full) => expect(isDiskFull(err)).toBe(full));
});

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot && !process.env.CI)('on a full filesystem (a small tmpfs)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  });
  afterEach(() => {
    execFileSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const fill = () => {
    const fd = fs.openSync(path.join(dir, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096, 1));
    } catch (err) {
      expect(isDiskFull(err)).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
  };

  it('the log drops lines instead of throwing, and says how many once it can write', () => {
    const log = new DiskFullTolerantLog(path.join(dir, 'log'));
    fill();
    for (let i = 0; i < 50; i++) expect(() => log.write(`${'x'.repeat(400)}\n`)).not.toThrow();
    fs.rmSync(path.join(dir, 'filler'));
    log.write('{"msg":"back"}\n');
    log.close();
    const text = fs.readFileSync(path.join(dir, 'log'), 'utf8');
    expect(text).toMatch(/"dropped":\d+,"msg":"log lines dropped: the disk was full"/);
    expect(text.trimEnd().endsWith('{"msg":"back"}')).toBe(true);
  });

  it('the reserve is kept at start, given back when full, and skipped quietly when there is no room', () => {
    const reserve = new SpaceReserve(path.join(dir, 'reserve'), 512 * 1024);
    reserve.ensure();
    expect(fs.statSync(path.join(dir, 'reserve')).size).toBe(512 * 1024);
    fill();
    expect(reserve.release()).toBe(true);
    // The released room is there for what must still be written.
    expect(() =>
      fs.writeFileSync(path.join(dir, 'failure-notice'), 'x'.repeat(100_000)),
    ).not.toThrow();
    expect(() => reserve.ensure()).not.toThrow();
    expect(fs.existsSync(path.join(dir, 'reserve'))).toBe(false);
    expect(reserve.release()).toBe(false);
  });
});
