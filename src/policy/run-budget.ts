import {
  Budget,
  BudgetExceededError,
  type BudgetLimits,
  type ChargeKind,
  type ChargeResult,
} from './budgets.js';

/** The timer a RunBudget waits on; tests hand in one they fire themselves. */
export interface BudgetTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RunBudgetOptions {
  /** Who the chat hears about: "this turn" or "task #3". */
  subject: string;
  clock?: () => Date;
  timers?: BudgetTimers;
}

const realTimers: BudgetTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Everything one run may use: wall time, tool calls, model tokens and egress requests, in one
 * object with one AbortSignal. The signal fires (its reason a BudgetExceededError for the chat)
 * the moment any limit is passed or the wall time is up, so whatever the run waits on — a model
 * request, an approval, a cell call — stops with it. Call `dispose` when the run ends.
 */
export class RunBudget {
  private readonly budget: Budget;
  private readonly controller = new AbortController();
  private readonly timers: BudgetTimers;
  private timer: unknown;

  constructor(limits: BudgetLimits, options: RunBudgetOptions) {
    this.budget = new Budget(limits, {
      subject: options.subject,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.timers = options.timers ?? realTimers;
    const remaining = this.budget.remainingWallTimeMs();
    if (remaining !== Infinity) {
      this.timer = this.timers.setTimeout(() => this.onWallTime(), remaining);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Count `amount` of `kind`; once a limit is passed every charge fails with the first reason
   * and the signal has fired. The egress manager charges `egressRequests` here as it goes.
   */
  charge(kind: ChargeKind, amount = 1): ChargeResult {
    return this.settle(this.budget.charge(kind, amount));
  }

  /** Whether the budget still holds (wall time included); charges nothing. */
  check(): ChargeResult {
    return this.settle(this.budget.check());
  }

  usage(): ReturnType<Budget['usage']> {
    return this.budget.usage();
  }

  /** Stop the wall-time timer; the signal stays as it is. */
  dispose(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onWallTime(): void {
    this.timer = undefined;
    const held = this.check();
    // A clock that lags the timer: wait for the rest.
    if (held.ok) {
      this.timer = this.timers.setTimeout(
        () => this.onWallTime(),
        this.budget.remainingWallTimeMs() || 1,
      );
    }
  }

  private settle(result: ChargeResult): ChargeResult {
    if (!result.ok && !this.controller.signal.aborted) {
      this.dispose();
      this.controller.abort(new BudgetExceededError(result.reason));
    }
    return result;
  }
}
