import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from './store.js';

// A real full filesystem: a 2 MiB tmpfs, which needs root (CI runs as root).
const canMount = process.getuid?.() === 0;
if (!canMount && process.env.CI) throw new Error('the full-disk store tests need root in CI');

/** Fill the filesystem holding `dir` until a write fails. */
function fill(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'filler'), 'w');
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(4096, 1));
  } catch {
    // ENOSPC: full, as wanted
  } finally {
    fs.closeSync(fd);
  }
}

describe.skipIf(!canMount)('store writes on a full disk', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
    store = Store.open(path.join(dir, 'nanocell.db'));
  });
  afterEach(() => {
    store.close();
    spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an INSERT … RETURNING that SQLite rolls back throws instead of returning the row', () => {
    const group = store.groups.create({ name: 'main', isAdmin: true });
    fill(dir);
    const add = () =>
      store.messages.add({
        groupId: group.id,
        channel: 'web',
        chatId: 'c',
        direction: 'in',
        sender: 'owner',
        senderName: 'Owner',
        text: 'x'.repeat(4000),
      });
    let thrown: unknown;
    let returned = 0;
    for (let i = 0; i < 50 && !thrown; i++) {
      try {
        add();
        returned++;
      } catch (err) {
        thrown = err;
      }
    }
    expect((thrown as { code?: string })?.code).toBe('SQLITE_FULL');
    expect(() => store.groups.create({ name: 'other', isAdmin: false })).toThrow(/full/);
    // Whatever was reported stored is stored: every row a caller got back is in the table.
    fs.rmSync(path.join(dir, 'filler'));
    const stored = store.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number };
    const names = store.groups.list().map((g) => g.name);
    expect(names).toEqual(['main']);
    expect(stored.n).toBe(returned);
  });
});
