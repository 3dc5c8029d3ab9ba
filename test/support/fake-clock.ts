import type { Clock, TimerHandle } from '../../src/cells/clock.js';

interface FakeTimer extends TimerHandle {
  at: number;
  seq: number;
  callback: () => void;
}

/** A Clock that moves only when a test advances it; due timers run in order of their time. */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private timers = new Set<FakeTimer>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as FakeTimer);
  }

  /** Move time on by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = [...this.timers]
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.delete(next);
      this.time = next.at;
      next.callback();
    }
    this.time = end;
  }

  /** Timers set and not yet run or cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }
}
