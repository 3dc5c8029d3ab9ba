import type { Logger } from 'pino';
import { canonicalJson, sha256Hex } from '../audit/canonical-json.js';
import {
  RuntimeUnavailableError,
  type Cell,
  type CellRuntime,
  type CellSpec,
} from './cell-runtime.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { PooledCell } from './pooled-cell.js';

/**
 * `run`: every run (a message turn or a task run) gets a fresh cell, which dies when the run
 * ends, and a spare is started for the group's next run. `group`: a group's cell serves its
 * runs until it has been idle for `idleMs` (files in /tmp and background processes carry over).
 */
export type CellReuse = 'run' | 'group';

export interface CellPoolOptions {
  /** Live cells across all groups, spares and starting and stopping ones included. Default 4. */
  maxLiveCells?: number;
  /** Default `run`. */
  reuse?: CellReuse;
  clock?: Clock;
}

export const DEFAULT_MAX_LIVE_CELLS = 4;

interface Entry {
  group: string;
  spec: CellSpec;
  /** Fingerprint of the spec: a cell serves only the grant it was started with. */
  grant: string;
  started: Promise<PooledCell>;
  /** Aborts the start: the cell is not needed any more (shutdown, eviction, grant change). */
  abort: AbortController;
  /** Set once the cell has started. */
  cell?: PooledCell;
  idle?: TimerHandle;
  lastUsed: number;
  startedAt: number;
}

/** A cell the pool holds, as the owner's dashboard shows it. */
export interface PoolCellInfo {
  group: string;
  cellId: string | null;
  pid: number | null;
  /** Where a container's own processes are on this host (Cell.memoryPid), when known. */
  memoryPid: number | null;
  role: 'run' | 'spare';
  state: 'starting' | 'alive' | 'dead';
  startedAtMs: number;
}

/** The spec's fingerprint; equal grants give equal fingerprints. */
export function grantFingerprint(spec: CellSpec): string {
  return sha256Hex(canonicalJson(spec));
}

/**
 * At most one cell per group serving its run, one spare per recently active group, and at most
 * `maxLiveCells` in all. A cell starts on first use (or early, through `warm`, while the model
 * is still thinking). With reuse `run`, `endRun` stops the run's cell and starts the group's
 * spare with the same grant, so the next run takes a cell that is already up; a spare whose
 * grant no longer matches the group's is discarded, and one unused for `idleMs` is stopped. A
 * run's cell that no call touched is kept as the spare. With reuse `group`, a cell stays warm
 * for `idleMs` after its last call, then is destroyed.
 *
 * A cell that died (crashed, killed, out of memory, broke the protocol) is stopped and
 * replaced by the next `get`; the call it was running has already returned `ok: false`.
 *
 * When every slot is taken, `get` makes room by stopping a spare, else the least recently used
 * cell of another group that has no call running (dead cells first); when all of them are busy
 * it waits, in order, until a call ends or a cell stops. `warm` and spares never wait and
 * never evict: a cell is only pushed out for a call that needs one now.
 */
export class CellPool {
  private readonly cells = new Map<string, Entry>();
  private readonly spares = new Map<string, Entry>();
  private readonly maxLive: number;
  private readonly reuse: CellReuse;
  private readonly clock: Clock;
  /** Cells removed from the maps whose stop has not finished: they still hold a slot. */
  private stopping = 0;
  private readonly stops = new Set<Promise<void>>();
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
    this.reuse = options.reuse ?? 'run';
    this.clock = options.clock ?? systemClock;
  }

  get runtimeName(): string {
    return this.runtime.name;
  }

  /** The cell serving the group's run, started if needed. Rejects with RuntimeUnavailableError. */
  async get(spec: CellSpec): Promise<Cell> {
    const key = spec.groupName;
    const grant = grantFingerprint(spec);
    let waitedSince: number | undefined;
    for (;;) {
      if (this.closed) throw new RuntimeUnavailableError('the cell pool is shutting down');
      const entry = this.cells.get(key);
      if (entry) {
        const cell = await entry.started.catch(() => undefined);
        if (this.cells.get(key) !== entry) continue; // stopped or replaced meanwhile
        if (cell?.alive && entry.grant === grant) {
          this.touch(key);
          return cell;
        }
        if (cell?.alive) this.log.info({ group: key, cellId: cell.id }, 'grant changed; new cell');
        else if (cell) this.log.warn({ group: key, cellId: cell.id }, 'cell died; replacing it');
        void this.retire(entry);
        continue;
      }
      const spare = this.spares.get(key);
      if (spare) {
        this.spares.delete(key);
        if (spare.idle) this.clock.clearTimeout(spare.idle);
        if (spare.grant === grant) {
          this.cells.set(key, spare);
        } else {
          this.log.info({ group: key }, "spare cell discarded: the group's grant changed");
          void this.stopDetached(spare);
        }
        continue;
      }
      if (this.slotsUsed() >= this.maxLive && !this.evictOne(key)) {
        if (waitedSince === undefined) {
          waitedSince = this.clock.now();
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
        this.log.info({ group: key, waitedMs: this.clock.now() - waitedSince }, 'cell slot free');
      }
      return this.register(this.cells, spec, grant, (_, signal) => this.runtime.start(spec, signal))
        .started;
    }
  }

  /** Have the group's cell started in the background if a slot is free; failures surface on `get`. */
  warm(spec: CellSpec): void {
    const key = spec.groupName;
    if (this.closed) return;
    if (!this.cells.has(key) && !this.spares.has(key) && this.slotsUsed() >= this.maxLive) {
      this.log.debug({ group: key }, 'not warming a cell: every slot is taken');
      return;
    }
    this.get(spec).catch(() => {
      // Logged when the start failed; the tool call that needs the cell reports it.
    });
  }

  /**
   * The group's run has ended (call it in a `finally`). With reuse `run` the run's cell is
   * stopped, so nothing it left reaches the next run, and a spare is started with the same
   * grant; the promise settles when the spare is up (or failed to start: the next
   * `get` then starts one). With reuse `group` the cell's idle time starts again.
   *
   * `nextSpec`, when given, is the grant the group's next run will most likely ask for (e.g.
   * the group's own after a task run with a narrower one); by default, the ended run's.
   */
  endRun(group: string, nextSpec?: CellSpec): Promise<void> {
    const entry = this.cells.get(group);
    if (this.reuse === 'group' || !entry || this.closed) {
      this.touch(group);
      return Promise.resolve();
    }
    this.cells.delete(group);
    if (entry.idle) this.clock.clearTimeout(entry.idle);
    const next = nextSpec ?? entry.spec;
    const nextGrant = nextSpec ? grantFingerprint(nextSpec) : entry.grant;
    const untouched =
      nextGrant === entry.grant && (!entry.cell || (entry.cell.alive && entry.cell.calls === 0));
    if (this.spares.has(group)) {
      void this.stopDetached(entry);
      return Promise.resolve();
    }
    if (untouched) {
      // No call ran in it: it is as clean as a new cell.
      this.spares.set(group, entry);
      if (entry.cell) this.arm(entry);
      return entry.started.then(noop, noop);
    }
    // With a slot free, the spare starts while the run's cell stops; otherwise the group's
    // slot passes from one to the other once the old cell has stopped.
    const slotFree = this.slotsUsed() + 1 < this.maxLive;
    if (slotFree) void this.stopDetached(entry);
    const spare = this.register(this.spares, next, nextGrant, async (self, signal) => {
      if (!slotFree) await this.stopCell(entry);
      if (this.closed || !this.holds(self)) {
        throw new RuntimeUnavailableError(
          `the spare cell of ${group} was stopped before it started`,
        );
      }
      return this.runtime.start(next, signal);
    });
    return spare.started.then(noop, noop);
  }

  /** Restart the idle timer of the group's cell after use. */
  touch(group: string): void {
    const entry = this.cells.get(group);
    if (!entry) return;
    entry.lastUsed = this.clock.now();
    this.arm(entry);
  }

  /** Every cell alive or starting, spares included. */
  list(): PoolCellInfo[] {
    const info = (e: Entry, role: PoolCellInfo['role']): PoolCellInfo => ({
      group: e.group,
      cellId: e.cell?.id ?? null,
      pid: e.cell?.pid ?? null,
      memoryPid: e.cell?.memoryPid ?? null,
      role,
      state: !e.cell ? 'starting' : e.cell.alive ? 'alive' : 'dead',
      startedAtMs: e.startedAt,
    });
    return [
      ...[...this.cells.values()].map((e) => info(e, 'run')),
      ...[...this.spares.values()].map((e) => info(e, 'spare')),
    ];
  }

  /** Cells alive or starting, spares included. */
  liveCount(): number {
    return this.cells.size + this.spares.size;
  }

  /** Stop the group's cell and its spare (e.g. because its grant changed). */
  async stop(group: string): Promise<void> {
    const entries = [this.cells.get(group), this.spares.get(group)];
    await Promise.all(entries.map((e) => (e ? this.retire(e) : undefined)));
  }

  /** Stop every cell; a `get` still waiting for a slot rejects. */
  async stopAll(): Promise<void> {
    this.closed = true;
    this.wake();
    await Promise.all([...this.cells.values(), ...this.spares.values()].map((e) => this.retire(e)));
    // Cells already on their way out (a run's cell, an evicted one) are waited for too.
    await Promise.all([...this.stops]);
  }

  /** Add an entry to `map` and start its cell; a failed start removes it again. */
  private register(
    map: Map<string, Entry>,
    spec: CellSpec,
    grant: string,
    start: (entry: Entry, signal: AbortSignal) => Promise<Cell>,
  ): Entry {
    const key = spec.groupName;
    const startedAt = this.clock.now();
    const abort = new AbortController();
    const entry = { group: key, spec, grant, lastUsed: startedAt, startedAt, abort } as Entry;
    map.set(key, entry);
    entry.started = start(entry, abort.signal).then(
      (raw) => {
        const cell = new PooledCell(raw, () => this.wake());
        entry.cell = cell;
        this.log.info(
          {
            group: key,
            cellId: raw.id,
            runtime: this.runtime.name,
            spare: map === this.spares,
            durationMs: this.clock.now() - startedAt,
          },
          'cell started',
        );
        if (!this.holds(entry)) {
          // Stopped (shutdown, eviction, grant change) while it was starting.
          void raw.stop();
          throw new RuntimeUnavailableError(`the cell of ${key} was stopped while it started`);
        }
        this.arm(entry);
        return cell;
      },
      (err: unknown) => {
        if (!this.closed && !abort.signal.aborted) {
          this.log.error({ group: key, runtime: this.runtime.name, err }, 'cell failed to start');
        }
        if (this.cells.get(key) === entry) this.cells.delete(key);
        if (this.spares.get(key) === entry) this.spares.delete(key);
        this.wake();
        throw err;
      },
    );
    return entry;
  }

  /** Whether the entry is still the group's cell or spare. */
  private holds(entry: Entry): boolean {
    return this.cells.get(entry.group) === entry || this.spares.get(entry.group) === entry;
  }

  private slotsUsed(): number {
    return this.cells.size + this.spares.size + this.stopping;
  }

  /** Stop a spare, else a started cell of another group with no call running (dead ones first, then LRU). */
  private evictOne(forGroup: string): boolean {
    const spare = [...this.spares.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0];
    const candidates = [...this.cells.values()].filter(
      (e) => e.group !== forGroup && e.cell && e.cell.inFlight === 0,
    );
    candidates.sort((a, b) => {
      const deadA = a.cell?.alive ? 1 : 0;
      const deadB = b.cell?.alive ? 1 : 0;
      return deadA - deadB || a.lastUsed - b.lastUsed;
    });
    const victim = spare ?? candidates[0];
    if (!victim) return false;
    this.log.info(
      { group: victim.group, forGroup, cellId: victim.cell?.id, spare: victim === spare },
      'cell evicted to make room',
    );
    void this.retire(victim);
    return true;
  }

  /** (Re)start the entry's idle timer: an idle cell or spare is stopped after `idleMs`. */
  private arm(entry: Entry): void {
    if (entry.idle) this.clock.clearTimeout(entry.idle);
    entry.idle = this.clock.setTimeout(() => this.onIdle(entry), this.idleMs);
  }

  private onIdle(entry: Entry): void {
    if (!this.holds(entry)) return;
    // A long call is not idleness: look again after it.
    if (entry.cell && entry.cell.inFlight > 0) {
      this.arm(entry);
      return;
    }
    void this.retire(entry);
  }

  /** Remove the entry, stop its cell (cleanup included), free its slot. */
  private async retire(entry: Entry): Promise<void> {
    if (this.cells.get(entry.group) === entry) this.cells.delete(entry.group);
    if (this.spares.get(entry.group) === entry) this.spares.delete(entry.group);
    await this.stopDetached(entry);
  }

  /** Stop an entry already removed from the maps; it holds a slot until it has stopped. */
  private async stopDetached(entry: Entry): Promise<void> {
    this.stopping++;
    const stop = this.stopCell(entry);
    this.stops.add(stop);
    try {
      await stop;
    } finally {
      this.stops.delete(stop);
      this.stopping--;
      this.wake();
    }
  }

  private async stopCell(entry: Entry): Promise<void> {
    if (entry.idle) this.clock.clearTimeout(entry.idle);
    // Still starting: stop the start instead of waiting for it (e.g. a spare at shutdown).
    if (!entry.cell) entry.abort.abort();
    try {
      const cell = await entry.started.catch(() => undefined);
      if (cell) {
        await cell.stop();
        this.log.info({ group: entry.group, cellId: cell.id }, 'cell stopped');
      }
    } catch (err) {
      this.log.error({ group: entry.group, err }, 'cell stop failed');
    }
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}

function noop(): void {
  // Settled either way: a failed spare is started again by the next `get`.
}
