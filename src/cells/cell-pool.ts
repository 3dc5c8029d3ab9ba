import type { Logger } from 'pino';
import type { ToolResponse } from './tool-protocol.js';
import {
  RuntimeUnavailableError,
  type Cell,
  type CellCall,
  type CellRuntime,
  type CellSpec,
} from './cell-runtime.js';

export interface CellPoolOptions {
  /** Live cells across all groups, starting and stopping ones included. Default 4. */
  maxLiveCells?: number;
}

export const DEFAULT_MAX_LIVE_CELLS = 4;

interface Entry {
  group: string;
  started: Promise<Cell>;
  /** Set once the cell has started. */
  cell?: PooledCell;
  idle?: NodeJS.Timeout;
  lastUsed: number;
}

/**
 * At most one live cell per group, and at most `maxLiveCells` in all. A cell starts on first
 * use (or early, through `warm`, while the model is still thinking), stays warm for `idleMs`
 * after its last call, then is destroyed. A cell that died (crashed, killed, out of memory)
 * is stopped and replaced by the next `get`; the call it was running has already returned
 * `ok: false` saying the cell stopped.
 *
 * When every slot is taken, `get` makes room by stopping the least recently used cell of
 * another group that has no call running (dead cells first); when all of them are busy it
 * waits, in order, until a call ends or a cell stops. `warm` never waits and never evicts:
 * a cell is only pushed out for a call that needs one now.
 */
export class CellPool {
  private readonly cells = new Map<string, Entry>();
  private readonly maxLive: number;
  /** Cells removed from `cells` whose stop has not finished: they still hold a slot. */
  private stopping = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly runtime: CellRuntime,
    private readonly idleMs: number,
    private readonly log: Logger,
    options: CellPoolOptions = {},
  ) {
    this.maxLive = options.maxLiveCells ?? DEFAULT_MAX_LIVE_CELLS;
    if (!Number.isInteger(this.maxLive) || this.maxLive < 1) {
      throw new Error(`maxLiveCells must be a positive integer, got ${this.maxLive}`);
    }
  }

  get runtimeName(): string {
    return this.runtime.name;
  }

  /** The group's cell, started if needed. Rejects with RuntimeUnavailableError. */
  async get(spec: CellSpec): Promise<Cell> {
    const key = spec.groupName;
    let waitedSince: number | undefined;
    for (;;) {
      if (this.closed) throw new RuntimeUnavailableError('the cell pool is shutting down');
      const entry = this.cells.get(key);
      if (entry) {
        const cell = await entry.started.then(
          () => entry.cell,
          () => undefined,
        );
        if (this.cells.get(key) !== entry) continue; // stopped or replaced meanwhile
        if (cell?.alive) {
          this.touch(key);
          return cell;
        }
        if (cell) this.log.warn({ group: key, cellId: cell.id }, 'cell died; replacing it');
        this.retire(entry);
        continue;
      }
      if (this.slotsUsed() >= this.maxLive && !this.evictOne(key)) {
        if (waitedSince === undefined) {
          waitedSince = Date.now();
          this.log.info({ group: key, maxLiveCells: this.maxLive }, 'waiting for a free cell slot');
        }
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      if (this.slotsUsed() >= this.maxLive) {
        // An eviction is under way: its slot frees when its stop finishes.
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      if (waitedSince !== undefined) {
        this.log.info({ group: key, waitedMs: Date.now() - waitedSince }, 'cell slot free');
      }
      return this.startCell(spec);
    }
  }

  /** Start the group's cell in the background if a slot is free; failures surface on `get`. */
  warm(spec: CellSpec): void {
    const key = spec.groupName;
    if (this.closed) return;
    if (!this.cells.has(key) && this.slotsUsed() >= this.maxLive) {
      this.log.debug({ group: key }, 'not warming a cell: every slot is taken');
      return;
    }
    this.get(spec).catch(() => {
      // Logged when the start failed; the tool call that needs the cell reports it.
    });
  }

  /** Restart the idle timer after use. */
  touch(group: string): void {
    const entry = this.cells.get(group);
    if (!entry) return;
    entry.lastUsed = Date.now();
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = setTimeout(() => this.onIdle(entry), this.idleMs);
    entry.idle.unref();
  }

  liveCount(): number {
    return this.cells.size;
  }

  async stop(group: string): Promise<void> {
    const entry = this.cells.get(group);
    if (!entry) return;
    await this.retire(entry);
  }

  /** Stop every cell; a `get` still waiting for a slot rejects. */
  async stopAll(): Promise<void> {
    this.closed = true;
    this.wake();
    await Promise.all([...this.cells.values()].map((e) => this.retire(e)));
  }

  private startCell(spec: CellSpec): Promise<Cell> {
    const key = spec.groupName;
    const startedAt = Date.now();
    const entry: Entry = { group: key, started: this.runtime.start(spec), lastUsed: startedAt };
    this.cells.set(key, entry);
    return entry.started.then(
      (raw) => {
        entry.cell = new PooledCell(raw, () => this.wake());
        this.log.info(
          {
            group: key,
            cellId: raw.id,
            runtime: this.runtime.name,
            durationMs: Date.now() - startedAt,
          },
          'cell started',
        );
        if (this.cells.get(key) !== entry) {
          // Stopped (shutdown, eviction) while it was starting.
          void raw.stop();
          throw new RuntimeUnavailableError(`the cell of ${key} was stopped while it started`);
        }
        this.touch(key);
        return entry.cell;
      },
      (err: unknown) => {
        this.log.error({ group: key, runtime: this.runtime.name, err }, 'cell failed to start');
        if (this.cells.get(key) === entry) this.cells.delete(key);
        this.wake();
        throw err;
      },
    );
  }

  private slotsUsed(): number {
    return this.cells.size + this.stopping;
  }

  /** Stop a started cell of another group with no call running; dead cells first, then LRU. */
  private evictOne(forGroup: string): boolean {
    const candidates = [...this.cells.values()].filter(
      (e) => e.group !== forGroup && e.cell && e.cell.inFlight === 0,
    );
    candidates.sort((a, b) => {
      const deadA = a.cell?.alive ? 1 : 0;
      const deadB = b.cell?.alive ? 1 : 0;
      return deadA - deadB || a.lastUsed - b.lastUsed;
    });
    const victim = candidates[0];
    if (!victim) return false;
    this.log.info(
      { group: victim.group, forGroup, cellId: victim.cell?.id },
      'cell evicted to make room',
    );
    void this.retire(victim);
    return true;
  }

  private onIdle(entry: Entry): void {
    if (this.cells.get(entry.group) !== entry) return;
    // A long call is not idleness: look again after it.
    if (entry.cell && entry.cell.inFlight > 0) {
      this.touch(entry.group);
      return;
    }
    void this.retire(entry);
  }

  /** Remove the entry, stop its cell (cleanup included), free its slot. */
  private async retire(entry: Entry): Promise<void> {
    if (this.cells.get(entry.group) === entry) this.cells.delete(entry.group);
    if (entry.idle) clearTimeout(entry.idle);
    this.stopping++;
    try {
      const cell = await entry.started.catch(() => undefined);
      if (cell) {
        await cell.stop();
        this.log.info({ group: entry.group, cellId: cell.id }, 'cell stopped');
      }
    } catch (err) {
      this.log.error({ group: entry.group, err }, 'cell stop failed');
    } finally {
      this.stopping--;
      this.wake();
    }
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}

/** The runtime's cell, counting calls in flight so the pool knows which cells are busy. */
class PooledCell implements Cell {
  inFlight = 0;

  constructor(
    private readonly inner: Cell,
    private readonly onCallDone: () => void,
  ) {}

  get id(): string {
    return this.inner.id;
  }

  get alive(): boolean {
    return this.inner.alive;
  }

  get pid(): number | undefined {
    return this.inner.pid;
  }

  async call(request: CellCall): Promise<ToolResponse> {
    this.inFlight++;
    try {
      return await this.inner.call(request);
    } finally {
      this.inFlight--;
      this.onCallDone();
    }
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}
