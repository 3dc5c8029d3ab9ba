import type { Logger } from 'pino';
import type { Cell, CellRuntime, CellSpec } from './cell-runtime.js';

/**
 * At most one live cell per group. A cell starts on first use (or early, through `warm`,
 * while the model is still thinking), stays warm for `idleMs` after its last call, then is
 * destroyed. A cell that died is replaced on the next call.
 */
export class CellPool {
  private readonly cells = new Map<string, { cell: Promise<Cell>; idle?: NodeJS.Timeout }>();

  constructor(
    private readonly runtime: CellRuntime,
    private readonly idleMs: number,
    private readonly log: Logger,
  ) {}

  get runtimeName(): string {
    return this.runtime.name;
  }

  /** The group's cell, started if needed. Rejects with RuntimeUnavailableError. */
  async get(spec: CellSpec): Promise<Cell> {
    const key = spec.groupName;
    let entry = this.cells.get(key);
    if (entry) {
      const cell = await entry.cell.catch(() => undefined);
      if (!cell || !cell.alive) {
        if (cell) this.log.warn({ group: key, cellId: cell.id }, 'cell died; replacing it');
        this.cells.delete(key);
        entry = undefined;
      }
    }
    if (!entry) {
      const startedAt = Date.now();
      const cell = this.runtime.start(spec);
      entry = { cell };
      this.cells.set(key, entry);
      cell.then(
        (c) =>
          this.log.info(
            {
              group: key,
              cellId: c.id,
              runtime: this.runtime.name,
              durationMs: Date.now() - startedAt,
            },
            'cell started',
          ),
        (err: unknown) => {
          this.log.error({ group: key, runtime: this.runtime.name, err }, 'cell failed to start');
          if (this.cells.get(key) === entry) this.cells.delete(key);
        },
      );
    }
    const cell = await entry.cell;
    this.touch(key);
    return cell;
  }

  /** Start the group's cell in the background; a failure surfaces on the next `get`. */
  warm(spec: CellSpec): void {
    this.get(spec).catch(() => {
      // Logged when the start failed; the tool call that needs the cell reports it.
    });
  }

  /** Restart the idle timer after use. */
  touch(group: string): void {
    const entry = this.cells.get(group);
    if (!entry) return;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = setTimeout(() => void this.stop(group), this.idleMs);
    entry.idle.unref();
  }

  liveCount(): number {
    return this.cells.size;
  }

  async stop(group: string): Promise<void> {
    const entry = this.cells.get(group);
    if (!entry) return;
    this.cells.delete(group);
    if (entry.idle) clearTimeout(entry.idle);
    const cell = await entry.cell.catch(() => undefined);
    if (cell) {
      await cell.stop();
      this.log.info({ group, cellId: cell.id }, 'cell stopped');
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.cells.keys()].map((g) => this.stop(g)));
  }
}
