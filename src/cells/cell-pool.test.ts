import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CellPool } from './cell-pool.js';
import {
  RuntimeUnavailableError,
  type Cell,
  type CellCall,
  type CellRuntime,
  type CellSpec,
  type RuntimeStatus,
} from './cell-runtime.js';
import type { ToolResponse } from './tool-protocol.js';

const log = pino({ level: 'silent' });

/** A cell whose calls answer at once, or hang until `finishCalls` (command "hang"). */
class FakeCell implements Cell {
  alive = true;
  stopped = false;
  private hanging: Array<() => void> = [];
  constructor(readonly id: string) {}

  call(request: CellCall): Promise<ToolResponse> {
    if (request.input.command !== 'hang')
      return Promise.resolve({ id: 1, ok: true, output: 'done' });
    return new Promise((resolve) =>
      this.hanging.push(() => resolve({ id: 1, ok: true, output: 'late' })),
    );
  }

  finishCalls(): void {
    for (const f of this.hanging.splice(0)) f();
  }

  async stop(): Promise<void> {
    this.alive = false;
    this.stopped = true;
  }
}

/** Starts FakeCells on demand; a start can be held back with `holdStarts`. */
class FakeRuntime implements CellRuntime {
  readonly name = 'fake';
  readonly started: FakeCell[] = [];
  private n = 0;
  failNext = false;

  async status(): Promise<RuntimeStatus> {
    return { ok: true, detail: 'fake' };
  }

  async start(spec: CellSpec): Promise<Cell> {
    if (this.failNext) {
      this.failNext = false;
      throw new RuntimeUnavailableError('fake runtime down');
    }
    const cell = new FakeCell(`${spec.groupName}-${++this.n}`);
    this.started.push(cell);
    return cell;
  }

  cellOf(group: string): FakeCell[] {
    return this.started.filter((c) => c.id.startsWith(`${group}-`));
  }
}

const spec = (groupName: string): CellSpec => ({
  groupName,
  mounts: [],
  env: {},
  workdir: '/',
  toolServerPath: '/nonexistent',
  limits: { memoryMb: 64, pids: 16, cpus: 1, callTimeoutMs: 1000, maxOutputBytes: 100 },
  network: { mode: 'none' },
});

const hang = (cell: Cell) => cell.call({ tool: 'bash', input: { command: 'hang' } });

/** Resolves once `check` holds, re-checking after every pending callback has run. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

describe('CellPool', () => {
  it('starts one cell per group, however many ask at once', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 60_000, log);
    const [a, b] = await Promise.all([pool.get(spec('g')), pool.get(spec('g'))]);
    expect(a.id).toBe(b.id);
    expect(rt.started).toHaveLength(1);
    expect(pool.liveCount()).toBe(1);
    await pool.stopAll();
  });

  it('destroys a cell once it has been idle for idleMs', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 20, log);
    await pool.get(spec('g'));
    await until(() => rt.started[0]!.stopped);
    expect(pool.liveCount()).toBe(0);
  });

  it('keeps a cell whose call outlasts the idle time', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 10, log);
    const cell = await pool.get(spec('g'));
    const call = hang(cell);
    await new Promise((r) => setTimeout(r, 50));
    expect(rt.started[0]!.stopped).toBe(false);
    rt.started[0]!.finishCalls();
    expect((await call).output).toBe('late');
    await until(() => rt.started[0]!.stopped);
  });

  it('replaces a dead cell on the next get, and stops (cleans up) the dead one', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 60_000, log);
    const first = await pool.get(spec('g'));
    rt.started[0]!.alive = false;
    const second = await pool.get(spec('g'));
    expect(second.id).not.toBe(first.id);
    expect(rt.started[0]!.stopped).toBe(true);
    expect(pool.liveCount()).toBe(1);
    await pool.stopAll();
  });

  it('evicts the least recently used idle cell of another group when every slot is taken', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 60_000, log, { maxLiveCells: 2 });
    await pool.get(spec('a'));
    await pool.get(spec('b'));
    pool.touch('a'); // a used after b: b is the least recently used
    await new Promise((r) => setTimeout(r, 2));
    pool.touch('a');
    const c = await pool.get(spec('c'));
    expect(c.id).toBe('c-3');
    expect(rt.cellOf('b')[0]!.stopped).toBe(true);
    expect(rt.cellOf('a')[0]!.stopped).toBe(false);
    expect(pool.liveCount()).toBe(2);
    await pool.stopAll();
  });

  it('queues a get while every cell is running a call, and serves it when one call ends', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 60_000, log, { maxLiveCells: 2 });
    const a = await pool.get(spec('a'));
    const b = await pool.get(spec('b'));
    const callA = hang(a);
    const callB = hang(b);
    let served = false;
    const c = pool.get(spec('c')).then((cell) => {
      served = true;
      return cell;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(served).toBe(false);
    expect(rt.started).toHaveLength(2);
    rt.cellOf('b')[0]!.finishCalls();
    await callB;
    expect((await c).id).toBe('c-3');
    expect(rt.cellOf('b')[0]!.stopped).toBe(true);
    expect(rt.cellOf('a')[0]!.stopped).toBe(false);
    rt.cellOf('a')[0]!.finishCalls();
    await callA;
    await pool.stopAll();
  });

  it('does not warm a cell when every slot is taken, nor evict for it', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 60_000, log, { maxLiveCells: 1 });
    await pool.get(spec('a'));
    pool.warm(spec('b'));
    await new Promise((r) => setTimeout(r, 10));
    expect(rt.started).toHaveLength(1);
    expect(rt.started[0]!.stopped).toBe(false);
    await pool.stopAll();
  });

  it('rejects a waiting get when the pool shuts down, and stops every cell', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 60_000, log, { maxLiveCells: 1 });
    const a = await pool.get(spec('a'));
    const call = hang(a);
    const waiting = pool.get(spec('b'));
    await new Promise((r) => setTimeout(r, 5));
    const stopped = pool.stopAll();
    await expect(waiting).rejects.toThrow(/shutting down/);
    rt.started[0]!.finishCalls();
    await call;
    await stopped;
    expect(rt.started[0]!.stopped).toBe(true);
    expect(pool.liveCount()).toBe(0);
  });

  it('reports a failed start to the caller and tries again on the next get', async () => {
    const rt = new FakeRuntime();
    const pool = new CellPool(rt, 60_000, log);
    rt.failNext = true;
    await expect(pool.get(spec('g'))).rejects.toThrow(RuntimeUnavailableError);
    expect(pool.liveCount()).toBe(0);
    expect((await pool.get(spec('g'))).alive).toBe(true);
    await pool.stopAll();
  });

  it('refuses a cap below one', () => {
    expect(() => new CellPool(new FakeRuntime(), 1, log, { maxLiveCells: 0 })).toThrow(/positive/);
  });
});
