import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processTreePssBytes } from './cell-memory.js';

describe('processTreePssBytes', () => {
  let proc: string;
  beforeEach(() => {
    proc = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-proc-'));
  });
  afterEach(() => fs.rmSync(proc, { recursive: true, force: true }));
  const fakeProcess = (pid: number, pssKb: number | null, children: number[]) => {
    fs.mkdirSync(path.join(proc, String(pid), 'task', String(pid)), { recursive: true });
    if (pssKb !== null) {
      fs.writeFileSync(
        path.join(proc, String(pid), 'smaps_rollup'),
        `00400000-7fff [rollup]\nRss:  ${pssKb * 2} kB\nPss:  ${pssKb} kB\n`,
      );
    }
    fs.writeFileSync(
      path.join(proc, String(pid), 'task', String(pid), 'children'),
      children.join(' '),
    );
  };

  it('adds up the PSS of the cell process and everything under it', () => {
    fakeProcess(10, 100, [11, 12]);
    fakeProcess(11, 200, [13]);
    fakeProcess(12, null, []);
    fakeProcess(13, 50, []);

    expect(processTreePssBytes(10, proc)).toBe(350 * 1024);
  });

  it('is null (unknown) when nothing could be read', () => {
    expect(processTreePssBytes(99, proc)).toBeNull();
  });

  it('survives a loop in the tree', () => {
    fakeProcess(10, 1, [11]);
    fakeProcess(11, 1, [10]);
    expect(processTreePssBytes(10, proc)).toBe(2 * 1024);
  });

  it.skipIf(process.platform !== 'linux')('measures this very process on Linux', () => {
    expect(processTreePssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });
});
