/** A timer from a Clock: the only thing done with it is cancelling it. */
export interface TimerHandle {
  /** Whether the timer keeps the process alive (system timers only). */
  unref?(): unknown;
}

/**
 * Time as a dependency: a class that waits takes a Clock, so its tests advance a fake one
 * instead of sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: Date.now and Node's timers, which never keep the host alive on their own. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): TimerHandle => {
    const t = setTimeout(callback, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as NodeJS.Timeout),
});
