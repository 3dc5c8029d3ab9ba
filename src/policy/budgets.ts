/** What a task or run may use up. Wall time is measured by the budget's own clock. */
export type BudgetKind = 'toolCalls' | 'modelTokens' | 'egressRequests' | 'wallTimeMs';

/** The counters a caller charges; wall time passes by itself. */
export type ChargeKind = Exclude<BudgetKind, 'wallTimeMs'>;

/** The most of each kind; a kind left out is unlimited. */
export type BudgetLimits = Partial<Record<BudgetKind, number>>;

export type ChargeResult = { ok: true } | { ok: false; reason: string };

export interface BudgetOptions {
  /** Who the chat hears about: "this task" or "this run". */
  subject?: string;
  clock?: () => Date;
}

const count = (n: number): string => n.toLocaleString('en-US');

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} minutes`;
  return `${Math.round(minutes / 60)} hours`;
}

const SPENT: Record<BudgetKind, (subject: string, limit: number) => string> = {
  toolCalls: (s, n) => `${s} used its ${count(n)} tool call${n === 1 ? '' : 's'}; stopped`,
  modelTokens: (s, n) => `${s} used its ${count(n)} model tokens; stopped`,
  egressRequests: (s, n) =>
    `${s} made its ${count(n)} network request${n === 1 ? '' : 's'}; stopped`,
  wallTimeMs: (s, n) => `${s} ran for its ${duration(n)}; stopped`,
};

/**
 * The counters of one task or run against its limits. Once any limit is passed the budget
 * stays spent: every later charge fails with the first reason, so the caller can stop the
 * work and tell the chat once. Charges are recorded even when they pass the limit (tokens
 * are only known after they are used).
 */
export class Budget {
  private readonly used: Record<ChargeKind, number> = {
    toolCalls: 0,
    modelTokens: 0,
    egressRequests: 0,
  };
  private readonly clock: () => Date;
  private readonly startedAt: number;
  private readonly subject: string;
  private spentReason: string | undefined;

  constructor(
    readonly limits: BudgetLimits,
    options: BudgetOptions = {},
  ) {
    for (const [kind, limit] of Object.entries(limits)) {
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
        throw new RangeError(`budget limit ${kind} must be a whole number ≥ 0, got ${limit}`);
      }
    }
    this.clock = options.clock ?? (() => new Date());
    this.startedAt = this.clock().getTime();
    this.subject = options.subject ?? 'this task';
  }

  /** Count `amount` of `kind` (default 1); fails once this or any limit is passed. */
  charge(kind: ChargeKind, amount = 1): ChargeResult {
    if (!(Number.isInteger(amount) && amount >= 0)) {
      throw new RangeError(`a budget charge must be a whole number ≥ 0, got ${amount}`);
    }
    this.used[kind] += amount;
    const limit = this.limits[kind];
    if (this.spentReason === undefined && limit !== undefined && this.used[kind] > limit) {
      this.spentReason = SPENT[kind](this.subject, limit);
    }
    return this.check();
  }

  /** Whether the budget still holds, wall time included; charges nothing. */
  check(): ChargeResult {
    const limit = this.limits.wallTimeMs;
    if (this.spentReason === undefined && limit !== undefined && this.elapsedMs() > limit) {
      this.spentReason = SPENT.wallTimeMs(this.subject, limit);
    }
    return this.spentReason === undefined ? { ok: true } : { ok: false, reason: this.spentReason };
  }

  /** How much of each kind has been used so far. */
  usage(): Record<BudgetKind, number> {
    return { ...this.used, wallTimeMs: this.elapsedMs() };
  }

  /** Time left before the wall-time limit (Infinity without one); for an abort timer. */
  remainingWallTimeMs(): number {
    const limit = this.limits.wallTimeMs;
    return limit === undefined ? Infinity : Math.max(0, limit - this.elapsedMs());
  }

  private elapsedMs(): number {
    return this.clock().getTime() - this.startedAt;
  }
}

/** A run went over one of its budgets; `message` is written for the chat. */
export class BudgetExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExceededError';
  }
}
