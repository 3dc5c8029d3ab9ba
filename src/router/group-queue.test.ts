import { describe, expect, it } from 'vitest';
import { GroupQueue } from './group-queue.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let every promise chain that can settle settle (a macrotask turn, not a timed sleep). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A run function whose runs the test finishes by hand, and which signals each start. */
class FakeRuns {
  /** One entry per started run, in start order. */
  readonly started: Array<{ groupId: number; done: Deferred<string> }> = [];
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];

  readonly run = (groupId: number): Promise<string> => {
    const done = deferred<string>();
    this.started.push({ groupId, done });
    for (const w of this.waiters.filter((w) => this.started.length >= w.n)) w.resolve();
    return done.promise;
  };

  /** Resolves once `n` runs have started. */
  untilStarted(n: number): Promise<void> {
    if (this.started.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  nth(i: number): Deferred<string> {
    const run = this.started[i];
    if (!run) throw new Error(`run ${i} has not started`);
    return run.done;
  }

  groups(): number[] {
    return this.started.map((r) => r.groupId);
  }
}

describe('GroupQueue', () => {
  it('starts a run for a group and hands back its outcome', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    const p = queue.enqueue(1);
    await runs.untilStarted(1);
    runs.nth(0).resolve('done');
    await expect(p).resolves.toBe('done');
    expect(runs.groups()).toEqual([1]);
  });

  it('tells per group whether a run is going and how many wait', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    void queue.enqueue(1);
    await runs.untilStarted(1);
    void queue.enqueue(1, { kind: 'task', taskId: 7 });

    expect(queue.perGroup()).toEqual([{ groupId: 1, running: true, waiting: 1 }]);
    runs.nth(0).resolve('done');
    await runs.untilStarted(2);
    runs.nth(1).resolve('done');
    await settle();
    expect(queue.perGroup()).toEqual([]);
  });

  it('does not start a second run for a group while one is in progress', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    const first = queue.enqueue(1);
    await runs.untilStarted(1);
    const second = queue.enqueue(1);
    await settle();
    expect(runs.started).toHaveLength(1);

    runs.nth(0).resolve('first');
    await expect(first).resolves.toBe('first');
    await runs.untilStarted(2);
    runs.nth(1).resolve('second');
    await expect(second).resolves.toBe('second');
    expect(runs.groups()).toEqual([1, 1]);
  });

  it('joins a request to the run that is waiting to start (same promise)', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    const a = queue.enqueue(1);
    const b = queue.enqueue(1);
    expect(b).toBe(a);
    await runs.untilStarted(1);
    runs.nth(0).resolve('one run');
    await expect(a).resolves.toBe('one run');
    await settle();
    expect(runs.started).toHaveLength(1);
  });

  it('schedules exactly one more run for any number of requests during a run', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    const first = queue.enqueue(1);
    await runs.untilStarted(1);
    const during = [queue.enqueue(1), queue.enqueue(1), queue.enqueue(1)];
    expect(new Set(during).size).toBe(1);
    expect(during[0]).not.toBe(first);

    runs.nth(0).resolve('first');
    await runs.untilStarted(2);
    runs.nth(1).resolve('follow-up');
    await expect(Promise.all(during)).resolves.toEqual(['follow-up', 'follow-up', 'follow-up']);
    await settle();
    expect(runs.started).toHaveLength(2);
  });

  it('runs different groups at the same time', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    const one = queue.enqueue(1);
    const two = queue.enqueue(2);
    await runs.untilStarted(2);
    expect(runs.groups()).toEqual([1, 2]);
    expect(queue.busyGroups().sort()).toEqual([1, 2]);

    runs.nth(1).resolve('two');
    await expect(two).resolves.toBe('two');
    runs.nth(0).resolve('one');
    await expect(one).resolves.toBe('one');
  });

  it('does not let a failed run block the next one', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    const failing = queue.enqueue(1);
    await runs.untilStarted(1);
    const next = queue.enqueue(1);
    runs.nth(0).reject(new Error('model down'));
    await expect(failing).rejects.toThrow('model down');

    await runs.untilStarted(2);
    runs.nth(1).resolve('recovered');
    await expect(next).resolves.toBe('recovered');
  });

  it('starts a fresh run after a failure when nothing was waiting', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    const failing = queue.enqueue(1);
    await runs.untilStarted(1);
    runs.nth(0).reject(new Error('boom'));
    await expect(failing).rejects.toThrow('boom');

    const again = queue.enqueue(1);
    await runs.untilStarted(2);
    runs.nth(1).resolve('fine');
    await expect(again).resolves.toBe('fine');
  });

  it('reports a group busy while its run waits or runs, and idle afterwards', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    expect(queue.busyGroups()).toEqual([]);
    const p = queue.enqueue(7);
    expect(queue.busyGroups()).toEqual([7]);
    await runs.untilStarted(1);
    expect(queue.busyGroups()).toEqual([7]);
    runs.nth(0).resolve('ok');
    await p;
    await settle();
    expect(queue.busyGroups()).toEqual([]);
  });
});

describe('GroupQueue limits and retries', () => {
  it('runs at most maxConcurrent groups at once; the next starts when a slot frees', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run, { maxConcurrent: 2 });
    const outcomes = [queue.enqueue(1), queue.enqueue(2), queue.enqueue(3)];
    await runs.untilStarted(2);
    await settle();
    expect(runs.groups()).toEqual([1, 2]);
    expect(queue.stats()).toEqual({ running: 2, waiting: 1 });
    runs.nth(1).resolve('two');
    await runs.untilStarted(3);
    expect(runs.groups()).toEqual([1, 2, 3]);
    runs.nth(0).resolve('one');
    runs.nth(2).resolve('three');
    await expect(Promise.all(outcomes)).resolves.toEqual(['one', 'two', 'three']);
  });

  it('keeps task runs apart: each is its own run, after the messages run', async () => {
    const runs = new FakeRuns();
    const queue = new GroupQueue(runs.run);
    const m = queue.enqueue(1);
    const t1 = queue.enqueue(1, { kind: 'task', taskId: 7 });
    const t2 = queue.enqueue(1, { kind: 'task', taskId: 7 });
    expect(t1).not.toBe(t2);
    await runs.untilStarted(1);
    runs.nth(0).resolve('m');
    await runs.untilStarted(2);
    runs.nth(1).resolve('t1');
    await runs.untilStarted(3);
    runs.nth(2).resolve('t2');
    await expect(Promise.all([m, t1, t2])).resolves.toEqual(['m', 't1', 't2']);
  });

  it('retries a retryable outcome with capped exponential backoff, then hands back the last', async () => {
    const delays: number[] = [];
    let calls = 0;
    const queue = new GroupQueue<string>(
      async () => {
        calls++;
        return calls < 3 ? 'transient' : 'ok';
      },
      {
        shouldRetry: (o) => o === 'transient',
        retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2 },
        onRetry: (_g, _j, _a, delayMs) => delays.push(delayMs),
      },
    );
    await expect(queue.enqueue(1)).resolves.toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([1, 2]);
  });

  it('gives up after maxAttempts and returns the failing outcome', async () => {
    let calls = 0;
    const queue = new GroupQueue<string>(
      async () => {
        calls++;
        return 'transient';
      },
      { shouldRetry: () => true, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } },
    );
    await expect(queue.enqueue(1)).resolves.toBe('transient');
    expect(calls).toBe(3);
  });

  it('lets a waiting group go when a run holds its slot past the lease, within an overtime cap', async () => {
    const releases = new Map<number, () => void>();
    const started: number[] = [];
    const expired: number[] = [];
    const queue = new GroupQueue<string>(
      (groupId) =>
        new Promise<string>((resolve) => {
          started.push(groupId);
          releases.set(groupId, () => resolve(`done ${groupId}`));
        }),
      { maxConcurrent: 1, slotLeaseMs: 20, onLeaseExpired: (g) => void expired.push(g) },
    );
    const stuck = queue.enqueue(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = queue.enqueue(2);
    const third = queue.enqueue(3);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(started).toEqual([1]);

    // Past the lease: group 1 gives up its slot to group 2, and goes on.
    await expect.poll(() => started).toEqual([1, 2]);
    expect(expired).toEqual([1]);
    expect(queue.stats().running).toBe(2);
    // One run in overtime at most (the cap): group 3 waits, even once group 2's lease is up.
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(started).toEqual([1, 2]);

    releases.get(1)!();
    await expect(stuck).resolves.toBe('done 1');
    await expect.poll(() => started).toEqual([1, 2, 3]);
    releases.get(2)!();
    releases.get(3)!();
    await expect(second).resolves.toBe('done 2');
    await expect(third).resolves.toBe('done 3');
    expect(queue.stats()).toEqual({ running: 0, waiting: 0 });
  });
});
