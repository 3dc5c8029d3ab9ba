import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logsCommand } from './logs.js';

const rec = (level: number, msg: string, fields: Record<string, unknown> = {}) =>
  `${JSON.stringify({ level, time: Date.UTC(2026, 11, 1, 12), pid: 1, ...fields, msg })}\n`;

describe('nanocell logs', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-logs-'));
    file = path.join(dir, 'nanocell.log');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function io() {
    const seen: string[] = [];
    let waiting: { count: number; resolve: () => void } | undefined;
    return {
      seen,
      out: {
        write: (s: string) => {
          seen.push(...s.split('\n').filter(Boolean));
          if (waiting && seen.length >= waiting.count) waiting.resolve();
        },
      },
      err: { write: (s: string) => seen.push(`ERR ${s}`) },
      /** Resolves once `count` lines have been printed in all. */
      until: (count: number) =>
        new Promise<void>((resolve) => {
          if (seen.length >= count) resolve();
          else waiting = { count, resolve };
        }),
    };
  }

  it('prints the last N records, filtered by level and group', async () => {
    fs.writeFileSync(
      file,
      rec(30, 'one', { group: 'main' }) +
        rec(40, 'two', { group: 'family' }) +
        rec(50, 'three', { group: 'main' }) +
        rec(30, 'four', { group: 'main' }),
    );
    const all = io();
    expect(await logsCommand(['-n', '2'], { logFile: file, ...all })).toBe(0);
    expect(all.seen).toEqual([
      '2026-12-01T12:00:00.000Z ERROR three group=main',
      '2026-12-01T12:00:00.000Z INFO  four group=main',
    ]);
    const warn = io();
    await logsCommand(['--level', 'warn'], { logFile: file, ...warn });
    expect(warn.seen.map((l) => l.split(/\s+/)[2])).toEqual(['two', 'three']);
    const main = io();
    await logsCommand(['--group', 'main', '--level', 'info'], { logFile: file, ...main });
    expect(main.seen.map((l) => l.split(/\s+/)[2])).toEqual(['one', 'three', 'four']);
  });

  it('with -f prints what is appended, a line split across writes once whole', async () => {
    fs.writeFileSync(file, rec(30, 'before'));
    const out = io();
    const stop = new AbortController();
    let following!: () => void;
    const ready = new Promise<void>((r) => (following = r));
    const done = logsCommand(['-f', '--level', 'info'], {
      logFile: file,
      ...out,
      signal: stop.signal,
      onFollowing: following,
    });
    await ready;
    expect(out.seen).toHaveLength(1);
    const next = rec(40, 'after', { group: 'g' });
    fs.appendFileSync(file, next.slice(0, 20));
    fs.appendFileSync(file, next.slice(20) + rec(20, 'debug is filtered') + rec(50, 'last'));
    await out.until(3);
    expect(out.seen.slice(1)).toEqual([
      '2026-12-01T12:00:00.000Z WARN  after group=g',
      '2026-12-01T12:00:00.000Z ERROR last',
    ]);
    stop.abort();
    expect(await done).toBe(0);
  });

  it('with -f starts again from the top of a log that was truncated', async () => {
    fs.writeFileSync(file, rec(30, 'old one') + rec(30, 'old two'));
    const out = io();
    const stop = new AbortController();
    let following!: () => void;
    const ready = new Promise<void>((r) => (following = r));
    const done = logsCommand(['-f', '-n', '0'], {
      logFile: file,
      ...out,
      signal: stop.signal,
      onFollowing: following,
    });
    await ready;
    fs.writeFileSync(file, rec(30, 'new'));
    await out.until(1);
    expect(out.seen).toEqual(['2026-12-01T12:00:00.000Z INFO  new']);
    stop.abort();
    await done;
  });

  it('says there is no log yet, and refuses bad options with the usage', async () => {
    const none = io();
    expect(await logsCommand([], { logFile: file, ...none })).toBe(1);
    expect(none.seen[0]).toContain('no log yet');
    for (const args of [['--level', 'loud'], ['-n', '-3'], ['--bogus'], ['extra']]) {
      const bad = io();
      fs.writeFileSync(file, '');
      expect(await logsCommand(args, { logFile: file, ...bad })).toBe(2);
      expect(bad.seen.join('')).toContain('usage: nanocell logs');
    }
  });
});
