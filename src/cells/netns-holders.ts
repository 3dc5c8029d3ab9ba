import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import type { CellUser } from './cell-user.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { LABEL_GROUP, LABEL_INSTALL, LABEL_OWNER_PID, removeContainer } from './container-args.js';

export interface NetnsHoldersOptions {
  /** `docker` or `podman` (its path). */
  engine: string;
  image: string;
  installId: string;
  user: () => CellUser;
  /** Engine flags every container of this runtime takes (podman's runtime and userns). */
  engineArgs?: () => string[];
  /** A free holder unused this long is removed (its engine shim costs memory). Default 10 min. */
  idleMs?: number;
  /** Holders per group at most (a run's cell and the spare beside it). Default 2. */
  perGroup?: number;
  /** Holders in all, at most. Default 32. */
  total?: number;
  clock?: Clock;
}

interface Holder {
  name: string;
  group: string;
  idleTimer?: TimerHandle;
}

/**
 * Network-less namespace holders (issue 17): a container that only sleeps, with `--network
 * none`, whose network namespace a group's cells join (`--network container:NAME`), so a
 * cell start does not pay for making a namespace (about a third of a bare `docker run`).
 * Only cells of the same group use a holder, and one at a time: a cell takes a free holder
 * and gives it back when it ends, so two live cells never share a loopback, and what a cell
 * could leave there (nothing: its processes are gone with it) is seen only by its own group.
 *
 * A start with no free holder runs as before (`--network none`) and a holder is made in the
 * background for the next one, so no start ever waits for a holder. Holders carry the install
 * and owner labels of cells, so orphans of a killed host are removed as cells are.
 */
export class NetnsHolders {
  private readonly free = new Map<string, Holder[]>();
  private readonly inUse = new Map<string, Holder>();
  private readonly making = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  private readonly clock: Clock;

  constructor(private readonly o: NetnsHoldersOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** A free holder of `group` for the cell `cellName`, or undefined (then one is made). */
  take(group: string, cellName: string): string | undefined {
    const holder = this.free.get(group)?.shift();
    if (!holder) {
      this.makeOne(group);
      return undefined;
    }
    if (holder.idleTimer) this.clock.clearTimeout(holder.idleTimer);
    this.inUse.set(cellName, holder);
    return holder.name;
  }

  /** The cell ended: its holder is free again, or removed when `broken`. Idempotent. */
  release(cellName: string, broken = false): void {
    const holder = this.inUse.get(cellName);
    if (!holder) return;
    this.inUse.delete(cellName);
    if (broken || this.closed) {
      void removeContainer(this.o.engine, holder.name);
      return;
    }
    this.park(holder);
  }

  /** Remove every holder (the host is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    // Holders still being made are removed as soon as they are up.
    await Promise.all(this.pending);
    const all = [...this.inUse.values(), ...[...this.free.values()].flat()];
    this.inUse.clear();
    this.free.clear();
    for (const h of all) if (h.idleTimer) this.clock.clearTimeout(h.idleTimer);
    await Promise.all(all.map((h) => removeContainer(this.o.engine, h.name)));
  }

  private count(group: string): number {
    let n = (this.free.get(group)?.length ?? 0) + (this.making.get(group) ?? 0);
    for (const h of this.inUse.values()) if (h.group === group) n++;
    return n;
  }

  private countAll(): number {
    let n = this.inUse.size;
    for (const list of this.free.values()) n += list.length;
    for (const m of this.making.values()) n += m;
    return n;
  }

  private makeOne(group: string): void {
    if (this.closed) return;
    if (this.count(group) >= (this.o.perGroup ?? 2)) return;
    if (this.countAll() >= (this.o.total ?? 32)) return;
    this.making.set(group, (this.making.get(group) ?? 0) + 1);
    const name = `nanocell-${group}-netns-${crypto.randomBytes(3).toString('hex')}`;
    const made = this.runHolder(group, name).then(async (ok) => {
      this.making.set(group, (this.making.get(group) ?? 1) - 1);
      if (!ok) return;
      if (this.closed) await removeContainer(this.o.engine, name);
      else this.park({ name, group });
    });
    this.pending.add(made);
    void made.finally(() => this.pending.delete(made));
  }

  private park(holder: Holder): void {
    holder.idleTimer = this.clock.setTimeout(() => {
      const list = this.free.get(holder.group) ?? [];
      this.free.set(
        holder.group,
        list.filter((h) => h !== holder),
      );
      void removeContainer(this.o.engine, holder.name);
    }, this.o.idleMs ?? 600_000);
    const list = this.free.get(holder.group) ?? [];
    list.push(holder);
    this.free.set(holder.group, list);
  }

  /** `ENGINE run -d` of a sleeping, network-less, capability-less container; true once up. */
  private runHolder(group: string, name: string): Promise<boolean> {
    const user = this.o.user();
    const args = [
      'run',
      '-d',
      '--rm',
      '--name',
      name,
      '--label',
      `${LABEL_INSTALL}=${this.o.installId}`,
      '--label',
      `${LABEL_GROUP}=${group}`,
      '--label',
      `${LABEL_OWNER_PID}=${process.pid}`,
      ...(this.o.engineArgs?.() ?? []),
      '--network',
      'none',
      '--read-only',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--user',
      `${user.uid}:${user.gid}`,
      '--pids-limit',
      '4',
      '--memory',
      '16m',
      '--entrypoint',
      '/bin/sleep',
      this.o.image,
      'infinity',
    ];
    return new Promise((resolve) => {
      const child = spawn(this.o.engine, args, { stdio: 'ignore' });
      child.on('error', () => resolve(false));
      child.on('exit', (code) => resolve(code === 0));
    });
  }
}
