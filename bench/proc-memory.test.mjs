import { spawn } from 'node:child_process';
import process from 'node:process';
import { describe, expect, it } from 'vitest';
import { descendants, parseMemUsageMb, pssKb, rssKb, sumMemoryMb } from './proc-memory.mjs';

describe('parseMemUsageMb', () => {
  it.each([
    ['12.5MiB / 1GiB', 12.5],
    ['1.5GiB / 2GiB', 1536],
    ['512KiB / 1GiB', 0.5],
    ['10MB / 1GB', 10e6 / 1024 ** 2],
    ['-- / --', null],
  ])('reads %s as %s MiB', (text, expected) => {
    const mb = parseMemUsageMb(text);
    if (expected === null) expect(mb).toBeNull();
    else expect(mb).toBeCloseTo(expected, 6);
  });
});

describe.skipIf(process.platform !== 'linux')('/proc readings', () => {
  it('reads this process RSS and PSS', () => {
    expect(rssKb(process.pid)).toBeGreaterThan(1000);
    expect(pssKb(process.pid)).toBeGreaterThan(0);
  });

  it('returns null for a process that does not exist', () => {
    expect(rssKb(2 ** 22 + 1)).toBeNull();
  });

  it('finds a child and its grandchild among the descendants', async () => {
    const child = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const grandchild = await new Promise((resolve) =>
      child.stdout.once('data', (c) => resolve(Number(String(c).trim()))),
    );
    try {
      const found = descendants(process.pid);
      expect(found).toContain(child.pid);
      expect(found).toContain(grandchild);
      expect(sumMemoryMb([child.pid, grandchild]).processes).toBe(2);
    } finally {
      process.kill(grandchild, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
});
