import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { CellLimits } from './cell-runtime.js';
import { StdioCell } from './stdio-cell.js';
import { maxResponseFrameBytes } from './tool-protocol.js';

const LIMITS: CellLimits = {
  memoryMb: 64,
  pids: 16,
  cpus: 1,
  callTimeoutMs: 1000,
  maxOutputBytes: 1000,
};

/**
 * Tool servers as a hostile cell can make them (a process in the cell can write straight into
 * the real one's stdout): each says ready, then misbehaves on its first request. An honest
 * one answers `echo`.
 */
const SERVERS = {
  honest: `rl.on('line', (l) => { const r = JSON.parse(l); out({ id: r.id, ok: true, output: String(r.input.command) }); });`,
  endlessLine: `rl.once('line', () => { const junk = Buffer.alloc(1 << 16, 97); const go = () => { while (process.stdout.write(junk)); process.stdout.once('drain', go); }; go(); });`,
  garbage: `rl.once('line', () => { process.stdout.write('not a response\\n'); });`,
  manyLines: `rl.once('line', () => { const junk = Buffer.from('{"x":1}\\n'.repeat(8192)); const go = () => { while (process.stdout.write(junk)); process.stdout.once('drain', go); }; go(); });`,
  forgedId: `rl.once('line', (l) => { const r = JSON.parse(l); out({ id: r.id + 100, ok: true, output: 'forged' }); });`,
  wrongShape: `rl.once('line', (l) => { const r = JSON.parse(l); out({ id: r.id, ok: 'yes', output: 5 }); });`,
  silent: `rl.on('line', () => {});`,
  escapes: `rl.on('line', (l) => { const r = JSON.parse(l); out({ id: r.id, ok: true, output: '\\u0001'.repeat(r.maxOutputBytes) }); });`,
} as const;

function serverScript(body: string): string {
  return [
    `const rl = require('readline').createInterface({ input: process.stdin });`,
    `const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');`,
    `out({ ready: true });`,
    body,
    // The host closing stdin is the signal to stop.
    `rl.on('close', () => process.exit(0));`,
  ].join('\n');
}

const cells: StdioCell[] = [];
afterEach(async () => {
  await Promise.all(cells.splice(0).map((c) => c.stop()));
});

async function start(kind: keyof typeof SERVERS, callGraceMs = 5000) {
  const child = spawn(process.execPath, ['-e', serverScript(SERVERS[kind])], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let cleanups = 0;
  const cell = await StdioCell.attach(`test-${kind}`, child, {
    cleanup: async () => {
      cleanups++;
    },
    limits: LIMITS,
    startTimeoutMs: 10_000,
    callGraceMs,
  });
  cells.push(cell);
  return { cell, cleanups: () => cleanups };
}

const echo = (cell: StdioCell, command = 'hi') =>
  cell.call({ tool: 'bash', input: { command }, timeoutMs: 100 });

describe('StdioCell against a tool server that breaks the protocol', () => {
  it('kills a cell that writes an endless line, with bounded host memory, and says so in the call', async () => {
    const { cell, cleanups } = await start('endlessLine');
    const other = await start('honest');
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const flooded = echo(cell);
    // Another cell keeps being served while the flood runs.
    expect((await echo(other.cell, 'meanwhile')).output).toBe('meanwhile');
    const r = await flooded;
    const grewMb = (process.memoryUsage().rss - rssBefore) / (1024 * 1024);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('broke the tool protocol');
    expect(r.output).toContain(`more than ${maxResponseFrameBytes(LIMITS.maxOutputBytes)} bytes`);
    expect(r.output).toContain('the next tool call starts a new cell');
    expect(grewMb).toBeLessThan(64);
    await cell.stop();
    expect(cell.alive).toBe(false);
    expect(cleanups()).toBe(1);
    expect((await echo(cell)).output).toContain('not running');
    expect((await echo(other.cell, 'after')).output).toBe('after');
  });

  for (const kind of ['garbage', 'manyLines', 'forgedId', 'wrongShape'] as const) {
    it(`kills a cell that answers with ${kind}, and fails the call saying why`, async () => {
      const { cell } = await start(kind);
      const r = await echo(cell);
      expect(r.ok).toBe(false);
      expect(r.output).toContain('broke the tool protocol');
      expect(r.output).toContain('the next tool call starts a new cell');
      await cell.stop();
      expect(cell.alive).toBe(false);
    });
  }

  it('kills a cell whose tool server never answers once the call is past its deadline', async () => {
    const { cell, cleanups } = await start('silent', 50);
    const started = Date.now();
    const r = await echo(cell);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('no answer from the cell within 150 ms: the cell was stopped');
    await cell.stop();
    expect(cell.alive).toBe(false);
    expect(cleanups()).toBe(1);
  });

  it("accepts the largest honest answer: every output byte escaped, at the cell's cap", async () => {
    const { cell } = await start('escapes');
    const r = await cell.call({ tool: 'bash', input: { command: 'x' }, maxOutputBytes: 10 ** 9 });
    expect(r.ok).toBe(true);
    // A call cannot raise the cap above the cell's own.
    expect(r.output).toBe('\u0001'.repeat(LIMITS.maxOutputBytes));
  });
});
