import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeCellRuntime } from '../../test/support/fake-cell-runtime.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { CellPool, type CellPoolOptions } from './cell-pool.js';
import { RuntimeUnavailableError, type Cell, type CellSpec } from './cell-runtime.js';

const log = pino({ level: 'silent' });

const spec = (groupName: string, extra: Partial<CellSpec> = {}): CellSpec => ({
  groupName,
  mounts: [],
  env: {},
  workdir: '/',
  toolServerPath: '/nonexistent',
  limits: { memoryMb: 64, pids: 16, cpus: 1, callTimeoutMs: 1000, maxOutputBytes: 100 },
  network: { mode: 'none' },
  ...extra,
});

const hang = (cell: Cell) => cell.call({ tool: 'bash', input: { command: 'hang' } });
const run = (cell: Cell, command = 'work') => cell.call({ tool: 'bash', input: { command } });

/** Let every pending promise callback run (no time passes: the clock is fake). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function makePool(options: CellPoolOptions & { idleMs?: number } = {}) {
  const rt = new FakeCellRuntime();
  const clock = new FakeClock();
  const pool = new CellPool(rt, options.idleMs ?? 60_000, log, { clock, ...options });
  return { rt, clock, pool };
}

describe('CellPool', () => {
  it('starts one cell per group, however many ask at once', async () => {
    const { rt, pool } = makePool();
    const [a, b] = await Promise.all([pool.get(spec('g')), pool.get(spec('g'))]);
    expect(a.id).toBe(b.id);
    expect(rt.started).toHaveLength(1);
    expect(pool.liveCount()).toBe(1);
    await pool.stopAll();
  });

  it('lists its cells with their group, state and start time, for the dashboard', async () => {
    const { clock, pool } = makePool();
    clock.advance(5000);
    const cell = await pool.get(spec('g'));

    expect(pool.list()).toEqual([
      {
        group: 'g',
        cellId: cell.id,
        pid: cell.pid ?? null,
        memoryPid: null,
        role: 'run',
        state: 'alive',
        startedAtMs: clock.now(),
      },
    ]);
    await pool.stopAll();
    expect(pool.list()).toEqual([]);
  });

  it('destroys a cell once it has been idle for idleMs, and not before', async () => {
    const { rt, clock, pool } = makePool({ idleMs: 20 });
    await pool.get(spec('g'));
    clock.advance(19);
    await settle();
    expect(rt.started[0]!.stopped).toBe(false);
    clock.advance(1);
    await settle();
    expect(rt.started[0]!.stopped).toBe(true);
    expect(pool.liveCount()).toBe(0);
  });

  it('keeps a cell whose call outlasts the idle time', async () => {
    const { rt, clock, pool } = makePool({ idleMs: 10 });
    const cell = await pool.get(spec('g'));
    const call = hang(cell);
    clock.advance(50);
    await settle();
    expect(rt.started[0]!.stopped).toBe(false);
    rt.started[0]!.finishCalls();
    expect((await call).output).toBe('late');
    clock.advance(10);
    await settle();
    expect(rt.started[0]!.stopped).toBe(true);
  });

  it('replaces a dead cell on the next get, and stops (cleans up) the dead one', async () => {
    const { rt, pool } = makePool();
    const first = await pool.get(spec('g'));
    rt.started[0]!.alive = false;
    const second = await pool.get(spec('g'));
    expect(second.id).not.toBe(first.id);
    expect(rt.started[0]!.stopped).toBe(true);
    expect(pool.liveCount()).toBe(1);
    await pool.stopAll();
  });

  it('starts a new cell when the group asks with another grant', async () => {
    const { rt, pool } = makePool();
    const first = await pool.get(spec('g'));
    const second = await pool.get(spec('g', { env: { NEW: '1' } }));
    expect(second.id).not.toBe(first.id);
    expect(rt.started[1]!.spec.env).toEqual({ NEW: '1' });
    await settle();
    expect(rt.started[0]!.stopped).toBe(true);
    await pool.stopAll();
  });

  it('evicts the least recently used idle cell of another group when every slot is taken', async () => {
    const { rt, clock, pool } = makePool({ maxLiveCells: 2 });
    await pool.get(spec('a'));
    await pool.get(spec('b'));
    clock.advance(5);
    pool.touch('a'); // a used after b: b is the least recently used
    const c = await pool.get(spec('c'));
    expect(c.id).toBe('c-3');
    expect(rt.cellOf('b')[0]!.stopped).toBe(true);
    expect(rt.cellOf('a')[0]!.stopped).toBe(false);
    expect(pool.liveCount()).toBe(2);
    await pool.stopAll();
  });

  it('queues a get while every cell is running a call, and serves it when one call ends', async () => {
    const { rt, pool } = makePool({ maxLiveCells: 2 });
    const a = await pool.get(spec('a'));
    const b = await pool.get(spec('b'));
    const callA = hang(a);
    const callB = hang(b);
    let served = false;
    const c = pool.get(spec('c')).then((cell) => {
      served = true;
      return cell;
    });
    await settle();
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
    const { rt, pool } = makePool({ maxLiveCells: 1 });
    await pool.get(spec('a'));
    pool.warm(spec('b'));
    await settle();
    expect(rt.started).toHaveLength(1);
    expect(rt.started[0]!.stopped).toBe(false);
    await pool.stopAll();
  });

  it('rejects a waiting get when the pool shuts down, and stops every cell', async () => {
    const { rt, pool } = makePool({ maxLiveCells: 1 });
    const a = await pool.get(spec('a'));
    const call = hang(a);
    const waiting = pool.get(spec('b'));
    await settle();
    const stopped = pool.stopAll();
    await expect(waiting).rejects.toThrow(/shutting down/);
    rt.started[0]!.finishCalls();
    await call;
    await stopped;
    expect(rt.started[0]!.stopped).toBe(true);
    expect(pool.liveCount()).toBe(0);
  });

  it('reports a failed start to the caller and tries again on the next get', async () => {
    const { rt, pool } = makePool();
    rt.failNext = true;
    await expect(pool.get(spec('g'))).rejects.toThrow(RuntimeUnavailableError);
    expect(pool.liveCount()).toBe(0);
    expect((await pool.get(spec('g'))).alive).toBe(true);
    await pool.stopAll();
  });

  it('refuses a cap below one', () => {
    expect(() => new CellPool(new FakeCellRuntime(), 1, log, { maxLiveCells: 0 })).toThrow(
      /positive/,
    );
  });
});

describe('CellPool, a fresh cell for every run (reuse "run", the default)', () => {
  it("stops the run's cell when the run ends and serves the next run from a spare started meanwhile", async () => {
    const { rt, pool } = makePool();
    const first = await pool.get(spec('g'));
    await run(first, 'leave things behind');
    const spareUp = pool.endRun('g');
    await spareUp;
    // The spare was up before run 2 asked for anything.
    expect(rt.started).toHaveLength(2);
    expect(rt.started[0]!.stopped).toBe(true);
    const second = await pool.get(spec('g'));
    expect(second.id).toBe(rt.started[1]!.id);
    expect(rt.started).toHaveLength(2);
    expect(rt.started[1]!.commands).toEqual([]);
    await pool.stopAll();
  });

  it('starts the spare with the grant of the run that ended', async () => {
    const { rt, pool } = makePool();
    const grant = spec('g', { env: { TZ: 'Europe/Paris' } });
    await run(await pool.get(grant));
    await pool.endRun('g');
    expect(rt.started[1]!.spec).toEqual(grant);
    await pool.stopAll();
  });

  it('starts the spare with the grant named for the next run (a task run with a narrower one)', async () => {
    const { rt, pool } = makePool();
    const narrow = spec('g', { env: { TASK: '7' } });
    const own = spec('g');
    // Untouched, but of another grant: not kept.
    pool.warm(narrow);
    await settle();
    await pool.endRun('g', own);
    expect(rt.started[0]!.stopped).toBe(true);
    expect(rt.started[1]!.spec).toEqual(own);
    expect((await pool.get(own)).id).toBe('g-2');
    await pool.stopAll();
  });

  it('discards a spare whose grant no longer matches the group and starts one that does', async () => {
    const { rt, pool } = makePool();
    await run(await pool.get(spec('g')));
    await pool.endRun('g');
    const changed = spec('g', { mounts: [{ hostPath: '/h', cellPath: '/c', readOnly: true }] });
    const cell = await pool.get(changed);
    expect(cell.id).toBe('g-3');
    expect(rt.started[2]!.spec.mounts).toHaveLength(1);
    await settle();
    expect(rt.started[1]!.stopped).toBe(true);
    await pool.stopAll();
  });

  it('keeps a cell that no call touched as the spare, instead of starting another', async () => {
    const { rt, pool } = makePool();
    pool.warm(spec('g'));
    await settle();
    await pool.endRun('g');
    expect(rt.started).toHaveLength(1);
    expect(rt.started[0]!.stopped).toBe(false);
    expect((await pool.get(spec('g'))).id).toBe('g-1');
    await pool.stopAll();
  });

  it('hands the next run a spare that is still starting, without starting a second one', async () => {
    const { rt, pool } = makePool();
    await run(await pool.get(spec('g')));
    rt.holdStarts = true;
    const spareUp = pool.endRun('g');
    const next = pool.get(spec('g'));
    await settle();
    rt.releaseStarts();
    await spareUp;
    expect((await next).id).toBe('g-2');
    expect(rt.started).toHaveLength(2);
    await pool.stopAll();
  });

  it('stops a spare nobody used for idleMs', async () => {
    const { rt, clock, pool } = makePool({ idleMs: 100 });
    await run(await pool.get(spec('g')));
    await pool.endRun('g');
    expect(pool.liveCount()).toBe(1);
    clock.advance(100);
    await settle();
    expect(rt.started[1]!.stopped).toBe(true);
    expect(pool.liveCount()).toBe(0);
  });

  it("counts spares against the cap and evicts another group's spare first", async () => {
    const { rt, pool } = makePool({ maxLiveCells: 2 });
    await run(await pool.get(spec('a')));
    await pool.endRun('a'); // a's spare: a-2
    const b = await pool.get(spec('b'));
    await run(b);
    const c = await pool.get(spec('c'));
    expect(c.id).toBe('c-4');
    expect(rt.cellOf('a')[1]!.stopped).toBe(true);
    expect(rt.cellOf('b')[0]!.stopped).toBe(false);
    expect(pool.liveCount()).toBe(2);
    await pool.stopAll();
  });

  it('stops the spare with the group (a grant change) and on shutdown', async () => {
    const { rt, pool } = makePool();
    await run(await pool.get(spec('g')));
    await pool.endRun('g');
    await pool.stop('g');
    expect(rt.started.every((c) => c.stopped)).toBe(true);
    expect(pool.liveCount()).toBe(0);
    await run(await pool.get(spec('g')));
    await pool.endRun('g');
    await pool.stopAll();
    expect(rt.started.every((c) => c.stopped)).toBe(true);
  });

  it("waits at shutdown for a run's cell that is still stopping", async () => {
    const { rt, pool } = makePool();
    await run(await pool.get(spec('g')));
    let finishStop!: () => void;
    rt.started[0]!.stopGate = new Promise((resolve) => (finishStop = resolve));
    void pool.endRun('g');
    let stopped = false;
    const all = pool.stopAll().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    finishStop();
    await all;
    expect(rt.started.every((c) => c.stopped)).toBe(true);
  });

  it('gives up the start of a spare at shutdown instead of waiting for it', async () => {
    const { rt, pool } = makePool();
    await run(await pool.get(spec('g')));
    rt.holdStarts = true;
    const spareUp = pool.endRun('g');
    await pool.stopAll();
    await spareUp;
    expect(rt.aborted).toBe(1);
    expect(rt.started).toHaveLength(1);
    expect(rt.started[0]!.stopped).toBe(true);
    expect(pool.liveCount()).toBe(0);
  });
});

describe('CellPool, reuse "group"', () => {
  it('keeps serving the same cell across runs until it has been idle for idleMs', async () => {
    const { rt, clock, pool } = makePool({ reuse: 'group', idleMs: 50 });
    const first = await pool.get(spec('g'));
    await run(first);
    await pool.endRun('g');
    clock.advance(49);
    const second = await pool.get(spec('g'));
    expect(second.id).toBe(first.id);
    expect(rt.started).toHaveLength(1);
    await pool.endRun('g');
    clock.advance(50);
    await settle();
    expect(rt.started[0]!.stopped).toBe(true);
  });
});
