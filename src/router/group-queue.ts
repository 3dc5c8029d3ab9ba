/**
 * One run at a time per group. Asking for a run while one is waiting to start joins that
 * waiting run (messages that arrive meanwhile are folded into it); asking while a run is in
 * progress schedules exactly one more after it.
 */
export class GroupQueue<T> {
  private readonly running = new Map<number, Promise<T>>();
  private readonly waiting = new Map<number, Promise<T>>();

  constructor(private readonly run: (groupId: number) => Promise<T>) {}

  enqueue(groupId: number): Promise<T> {
    const waiting = this.waiting.get(groupId);
    if (waiting) return waiting;
    const current = this.running.get(groupId);
    const next = (current ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        this.waiting.delete(groupId);
        const p = this.run(groupId);
        this.running.set(groupId, p);
        const clear = () => {
          if (this.running.get(groupId) === p) this.running.delete(groupId);
        };
        p.then(clear, clear);
        return p;
      });
    this.waiting.set(groupId, next);
    return next;
  }

  /** Groups with a run in progress or waiting. */
  busyGroups(): number[] {
    return [...new Set([...this.running.keys(), ...this.waiting.keys()])];
  }
}
