import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffSnapshots, unifiedDiff } from './folder-diff.js';
import { snapshotFolder } from './folder-snapshot.js';

describe('unifiedDiff', () => {
  it('shows a changed line with three lines of context', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n') + '\n';
    const after = before.replace('5', 'five');
    expect(unifiedDiff('n.txt', before, after)).toBe(
      [
        '--- a/n.txt',
        '+++ b/n.txt',
        '@@ -2,7 +2,7 @@',
        ' 2',
        ' 3',
        ' 4',
        '-5',
        '+five',
        ' 6',
        ' 7',
        ' 8',
        '',
      ].join('\n'),
    );
  });

  it('diffs a new file against /dev/null', () => {
    expect(unifiedDiff('new.txt', null, 'a\nb\n')).toBe(
      ['--- /dev/null', '+++ b/new.txt', '@@ -0,0 +1,2 @@', '+a', '+b', ''].join('\n'),
    );
  });

  it('keeps two far-apart changes in two hunks', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const changed = lines.map((l) => (l === 'l2' || l === 'l17' ? `${l}!` : l));
    const diff = unifiedDiff('f', `${lines.join('\n')}\n`, `${changed.join('\n')}\n`)!;
    expect(diff.match(/^@@/gm)).toHaveLength(2);
  });
});

describe('snapshots of a group folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-snap-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports added, removed and modified files, a diff for text and none for binary', () => {
    fs.writeFileSync(path.join(dir, 'notes.md'), 'buy bread\n');
    fs.writeFileSync(path.join(dir, 'old.txt'), 'gone soon\n');
    fs.writeFileSync(path.join(dir, 'pic.bin'), Buffer.from([0, 1, 2]));
    const before = snapshotFolder(dir);
    fs.writeFileSync(path.join(dir, 'notes.md'), 'buy bread\nbuy milk\n');
    fs.rmSync(path.join(dir, 'old.txt'));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'new.txt'), 'hello\n');
    fs.writeFileSync(path.join(dir, 'pic.bin'), Buffer.from([0, 1, 3]));

    const { changes, truncated } = diffSnapshots(before, snapshotFolder(dir));

    expect(truncated).toBe(false);
    expect(changes.map((c) => [c.path, c.change, c.note])).toEqual([
      ['notes.md', 'modified', null],
      ['old.txt', 'removed', null],
      ['pic.bin', 'modified', 'binary or too large to show'],
      ['sub/new.txt', 'added', null],
    ]);
    expect(changes[0]!.diff).toContain('+buy milk');
    expect(changes[1]!.diff).toContain('-gone soon');
  });

  it('records a planted link as a link and never reads through it', () => {
    const secret = path.join(os.tmpdir(), `nanocell-secret-${process.pid}`);
    fs.writeFileSync(secret, 'host secret\n');
    try {
      const before = snapshotFolder(dir);
      fs.symlinkSync(secret, path.join(dir, 'steal.txt'));
      const { changes } = diffSnapshots(before, snapshotFolder(dir));

      expect(changes).toEqual([
        expect.objectContaining({
          path: 'steal.txt',
          change: 'added',
          diff: null,
          note: 'a symbolic link (never followed)',
        }),
      ]);
      expect(JSON.stringify(changes)).not.toContain('host secret');
    } finally {
      fs.rmSync(secret);
    }
  });

  it('stops at its entry limit and says the list may be incomplete', () => {
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(dir, `f${i}`), `${i}`);
    const limits = {
      maxEntries: 3,
      maxDepth: 4,
      maxHashBytes: 1024,
      maxTotalReadBytes: 1024,
      maxTextBytes: 1024,
      maxTotalTextBytes: 1024,
    };
    const snap = snapshotFolder(dir, limits);
    expect(snap.entries.size).toBe(3);
    expect(snap.truncated).toBe(true);
  });
});
