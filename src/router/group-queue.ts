export type QueueJob = { kind: 'messages' } | { kind: 'task'; taskId: number };

export interface QueueOptions<T> {
  /** Runs across all groups at once; more wait for a free slot. */
  maxConcurrent?: number;
  /** Whether a finished run should be tried again (a transient failure). */
  shouldRetry?: (outcome: T) => boolean;
  retry?: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** Called when a run is going to be retried, with the attempt that failed. */
  onRetry?: (groupId: number, job: QueueJob, attempt: number, delayMs: number) => void;
  /**
   * A run that has held its slot this long (a hung model, a long tool) gives the slot up to
   * the next waiting group and goes on outside the cap; at most `maxConcurrent` runs more may
   * go on that way, so a handful of stuck groups cannot starve every other one.
   */
  slotLeaseMs?: number;
  /** Told when a run gives up its slot that way. */
  onLeaseExpired?: (groupId: number, job: QueueJob) => void;
}

interface Waiter<T> {
  job: QueueJob;
  attempt: number;
  promise: Promise<T>;
  resolve: (outcome: T) => void;
  reject: (err: unknown) => void;
}

interface GroupState<T> {
  pending: Array<Waiter<T>>;
  /** A run of this group is in progress or backing off before a retry. */
  busy: boolean;
}

/**
 * One run at a time per group, at most `maxConcurrent` runs overall. A request for a
 * messages run while one is waiting joins it (messages that arrive meanwhile are folded into
 * it); a request during a run schedules one more after it. A run whose outcome is retryable
 * is tried again after a capped exponential backoff, holding its group (so order is kept)
 * but not a global slot.
 */
export class GroupQueue<T> {
  private readonly groups = new Map<number, GroupState<T>>();
  /** Groups with pending work, in the order they became ready. */
  private readonly ready: number[] = [];
  private active = 0;
  /** Runs past their slot lease, going on outside the cap. */
  private overtime = 0;
  /** Runs past their lease that still hold a slot: each gives it up when a group waits. */
  private readonly expired = new Set<() => void>();
  private readonly maxConcurrent: number;

  constructor(
    private readonly run: (groupId: number, job: QueueJob) => Promise<T>,
    private readonly options: QueueOptions<T> = {},
  ) {
    this.maxConcurrent = options.maxConcurrent ?? Number.POSITIVE_INFINITY;
  }

  enqueue(groupId: number, job: QueueJob = { kind: 'messages' }): Promise<T> {
    const state = this.state(groupId);
    if (job.kind === 'messages') {
      const waiting = state.pending.find((w) => w.job.kind === 'messages');
      if (waiting) return waiting.promise;
    }
    let resolve!: (outcome: T) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    state.pending.push({ job, attempt: 1, promise, resolve, reject });
    this.markReady(groupId);
    // Start on the next microtask, so messages stored in the same tick fold into one run.
    queueMicrotask(() => this.pump());
    return promise;
  }

  /** Groups with a run in progress, backing off, or waiting. */
  busyGroups(): number[] {
    return [...this.groups.entries()]
      .filter(([, s]) => s.busy || s.pending.length > 0)
      .map(([id]) => id);
  }

  /** Per group with a run going or waiting: whether one runs, and how many wait. */
  perGroup(): Array<{ groupId: number; running: boolean; waiting: number }> {
    return [...this.groups.entries()]
      .filter(([, s]) => s.busy || s.pending.length > 0)
      .map(([groupId, s]) => ({ groupId, running: s.busy, waiting: s.pending.length }));
  }

  stats(): { running: number; waiting: number } {
    let waiting = 0;
    for (const s of this.groups.values()) waiting += s.pending.length;
    return { running: this.active + this.overtime, waiting };
  }

  private state(groupId: number): GroupState<T> {
    let state = this.groups.get(groupId);
    if (!state) {
      state = { pending: [], busy: false };
      this.groups.set(groupId, state);
    }
    return state;
  }

  private hasWaiting(): boolean {
    return this.ready.some((id) => !this.state(id).busy && this.state(id).pending.length > 0);
  }

  private markReady(groupId: number): void {
    if (!this.ready.includes(groupId)) this.ready.push(groupId);
  }

  private pump(): void {
    // A run past its lease gives its slot to a waiting group (within the overtime allowance).
    for (const giveUp of this.expired) {
      if (this.active < this.maxConcurrent || this.overtime >= this.maxConcurrent) break;
      if (!this.hasWaiting()) break;
      this.expired.delete(giveUp);
      giveUp();
    }
    for (let i = 0; i < this.ready.length && this.active < this.maxConcurrent;) {
      const groupId = this.ready[i]!;
      const state = this.state(groupId);
      if (state.busy) {
        i++;
        continue;
      }
      this.ready.splice(i, 1);
      const waiter = state.pending.shift();
      if (!waiter) continue;
      this.start(groupId, state, waiter);
    }
  }

  private start(groupId: number, state: GroupState<T>, waiter: Waiter<T>): void {
    state.busy = true;
    this.active++;
    let leased = false;
    const lease = this.options.slotLeaseMs;
    const timer =
      lease === undefined
        ? undefined
        : setTimeout(() => {
            this.expired.add(giveUp);
            this.pump();
          }, lease);
    timer?.unref();
    const giveUp = () => {
      leased = true;
      this.active--;
      this.overtime++;
      this.options.onLeaseExpired?.(groupId, waiter.job);
    };
    const release = () => {
      clearTimeout(timer);
      this.expired.delete(giveUp);
      if (leased) this.overtime--;
      else this.active--;
    };
    const finish = () => {
      release();
      state.busy = false;
      if (state.pending.length > 0) this.markReady(groupId);
      else if (this.groups.get(groupId) === state) this.groups.delete(groupId);
      this.pump();
    };
    this.run(groupId, waiter.job).then(
      (outcome) => {
        const retry = this.options.retry;
        if (retry && waiter.attempt < retry.maxAttempts && this.options.shouldRetry?.(outcome)) {
          const delayMs = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (waiter.attempt - 1));
          this.options.onRetry?.(groupId, waiter.job, waiter.attempt, delayMs);
          // Free the global slot while waiting, but keep the group busy so order holds.
          release();
          this.pump();
          setTimeout(() => {
            waiter.attempt++;
            state.busy = false;
            state.pending.unshift(waiter);
            this.markReady(groupId);
            this.pump();
          }, delayMs);
          return;
        }
        waiter.resolve(outcome);
        finish();
      },
      (err: unknown) => {
        waiter.reject(err);
        finish();
      },
    );
  }
}
