import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLock, lockInfoPath, readLockHolder } from './data-dir-lock.js';

describe('DataDirLock', () => {
  let home: string;
  const held: DataDirLock[] = [];

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-lock-'));
  });
  afterEach(async () => {
    for (const lock of held.splice(0)) await lock.release();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('lets exactly one of many concurrent takers hold a data dir', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => DataDirLock.acquire(home, `taker-${i}`)),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.ok) held.push(r.lock);
  });

  it('tells a refused taker who holds the data dir and where the host listens', async () => {
    const first = await DataDirLock.acquire(home, 'start');
    if (!first.ok) throw new Error('first acquire failed');
    held.push(first.lock);
    first.lock.setUrl('http://127.0.0.1:7420/');
    const second = await DataDirLock.acquire(home, 'start');
    expect(second).toEqual({
      ok: false,
      holder: expect.objectContaining({
        pid: process.pid,
        command: 'start',
        url: 'http://127.0.0.1:7420/',
      }),
    });
    expect(fs.statSync(lockInfoPath(home)).mode & 0o777).toBe(0o600);
  });

  it('is free again once released, and its record is gone', async () => {
    const first = await DataDirLock.acquire(home, 'chat');
    if (!first.ok) throw new Error('first acquire failed');
    await first.lock.release();
    expect(fs.existsSync(lockInfoPath(home))).toBe(false);
    const again = await DataDirLock.acquire(home, 'start');
    expect(again.ok).toBe(true);
    if (again.ok) held.push(again.lock);
  });

  it('locks a data dir, not a path: another name for the same folder is the same lock', async () => {
    const alias = `${home}-alias`;
    fs.symlinkSync(home, alias);
    try {
      const first = await DataDirLock.acquire(home, 'start');
      if (!first.ok) throw new Error('first acquire failed');
      held.push(first.lock);
      expect((await DataDirLock.acquire(alias, 'start')).ok).toBe(false);
    } finally {
      fs.rmSync(alias);
    }
  });

  it('does not follow a lock record planted as a symlink', async () => {
    const elsewhere = path.join(home, 'elsewhere.json');
    fs.writeFileSync(elsewhere, JSON.stringify({ pid: 1, command: 'start', startedAt: 'x' }));
    fs.symlinkSync(elsewhere, lockInfoPath(home));
    expect(readLockHolder(home)).toBeUndefined();
  });

  it('ignores a malformed or oversized lock record', () => {
    fs.writeFileSync(lockInfoPath(home), '{"pid": "1; rm -rf /"}');
    expect(readLockHolder(home)).toBeUndefined();
    fs.writeFileSync(lockInfoPath(home), `{"pid":1,"command":"${'x'.repeat(10_000)}"}`);
    expect(readLockHolder(home)).toBeUndefined();
  });
});
