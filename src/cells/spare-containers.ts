import { systemClock, type Clock, type TimerHandle } from './clock.js';

/** A container created for a group's next cell and not started. */
export interface SpareContainer {
  name: string;
  /** Remove the container and what it holds (its tool socket, its namespace holder). */
  remove(): Promise<void>;
}

export interface SpareContainersOptions {
  /** A spare unused this long is removed. Default 10 min. */
  idleMs?: number;
  /** Spares in all, at most (each holds a tool socket). Default 32. */
  total?: number;
  /** How long a start waits for a spare still being made before it goes without. Default 2 s. */
  waitMs?: number;
  clock?: Clock;
}

interface Entry<T extends SpareContainer> {
  key: string;
  made: Promise<T | undefined>;
  idleTimer?: TimerHandle;
}

/**
 * At most one spare per group (issue 17): a container created, with the exact flags of the
 * group's next cell, right after a cell of the group starts, so the next start only starts
 * it. A created container runs nothing and costs no memory, only its entry in the engine's
 * store. A spare is made for one spec (`key`): a start with another spec removes it and
 * starts the plain way, and so does a start that finds none. Spares carry the labels of
 * cells, so a killed host's are removed as its orphaned cells are.
 */
export class SpareContainers<T extends SpareContainer> {
  private readonly spares = new Map<string, Entry<T>>();
  private readonly removing = new Set<Promise<void>>();
  private readonly clock: Clock;
  private closed = false;

  constructor(private readonly o: SpareContainersOptions = {}) {
    this.clock = o.clock ?? systemClock;
  }

  /** Spares held or being made. */
  get size(): number {
    return this.spares.size;
  }

  /**
   * The group's spare, when it was made for `key` (waiting for one still being made); it is
   * the caller's then. Undefined when there is none, or it was for another spec (removed).
   */
  async take(group: string, key: string): Promise<T | undefined> {
    const entry = this.spares.get(group);
    if (!entry || entry.key !== key || this.closed) {
      if (entry) this.discard(group, entry);
      return undefined;
    }
    this.spares.delete(group);
    if (entry.idleTimer) this.clock.clearTimeout(entry.idleTimer);
    let timer: TimerHandle | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('late'), this.o.waitMs ?? 2000);
    });
    const spare = await Promise.race([entry.made, late]);
    if (timer) this.clock.clearTimeout(timer);
    if (spare === 'late') {
      // Still being made: removed once it is; this start goes without.
      this.discard(group, entry);
      return undefined;
    }
    return spare;
  }

  /** Make the group's next spare for `key` with `make`, unless it has one for it already. */
  refill(group: string, key: string, make: () => Promise<T | undefined>): void {
    if (this.closed) return;
    const existing = this.spares.get(group);
    if (existing?.key === key) return;
    if (existing) this.discard(group, existing);
    if (this.spares.size >= (this.o.total ?? 32)) return;
    const entry: Entry<T> = { key, made: make().catch(() => undefined) };
    this.spares.set(group, entry);
    void entry.made.then((spare) => {
      if (this.spares.get(group) !== entry) return; // taken or discarded meanwhile
      if (!spare) {
        this.spares.delete(group);
        return;
      }
      entry.idleTimer = this.clock.setTimeout(
        () => this.spares.get(group) === entry && this.discard(group, entry),
        this.o.idleMs ?? 600_000,
      );
    });
  }

  /** Remove every spare, and those being made as soon as they are. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [group, entry] of [...this.spares]) this.discard(group, entry);
    while (this.removing.size > 0) await Promise.all([...this.removing]);
  }

  private discard(group: string, entry: Entry<T>): void {
    this.spares.delete(group);
    if (entry.idleTimer) this.clock.clearTimeout(entry.idleTimer);
    const removed = entry.made.then((spare) => spare && this.remove(spare));
    this.track(removed.then(() => undefined));
  }

  private remove(spare: T): Promise<void> {
    const removed = spare.remove().catch(() => undefined);
    this.track(removed);
    return removed;
  }

  private track(p: Promise<void>): void {
    this.removing.add(p);
    void p.finally(() => this.removing.delete(p));
  }
}
