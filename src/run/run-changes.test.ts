import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunChanges } from './run-changes.js';

describe('RunChanges', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-runchanges-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const changes = () =>
    new RunChanges((id) => (id === 1 ? dir : undefined), pino({ level: 'silent' }));

  it("keeps what a group's run changed, also when the run fails", async () => {
    const rc = changes();
    await rc.around(1, async () => fs.writeFileSync(path.join(dir, 'a.txt'), 'one\n'));
    expect(rc.lastRun(1)?.changes.map((c) => [c.path, c.change])).toEqual([['a.txt', 'added']]);

    await expect(
      rc.around(1, async () => {
        fs.writeFileSync(path.join(dir, 'a.txt'), 'two\n');
        throw new Error('model down');
      }),
    ).rejects.toThrow('model down');
    expect(rc.lastRun(1)?.changes).toEqual([
      expect.objectContaining({
        path: 'a.txt',
        change: 'modified',
        diff: expect.stringContaining('+two'),
      }),
    ]);
  });

  it('records nothing for a group without a folder, and still runs it', async () => {
    const rc = changes();
    expect(await rc.around(2, async () => 'ran')).toBe('ran');
    expect(rc.lastRun(2)).toBeUndefined();
  });
});
