import type { EgressBudget as BudgetLimits } from './egress-grant.js';

/** One run's egress budget: requests started and bytes moved in both directions. */
export class EgressBudgetCounter {
  private requests = 0;
  private bytes = 0;
  private refusedOverBudget = 0;

  constructor(private readonly limits: BudgetLimits) {}

  /** Why a new request may not start (and it is counted as refused), or null when it may. */
  refusal(): string | null {
    let reason: string | null = null;
    if (this.requests >= this.limits.maxRequests) {
      reason = `egress budget spent: this run may make ${this.limits.maxRequests} requests and has made ${this.requests}`;
    } else if (this.bytes >= this.limits.maxBytes) {
      reason = `egress budget spent: this run may move ${this.limits.maxBytes} bytes and has moved ${this.bytes}`;
    }
    if (reason !== null) this.refusedOverBudget++;
    return reason;
  }

  /** Starts a request if the budget allows: null, and it is counted; else why not. */
  tryStart(): string | null {
    const refusal = this.refusal();
    if (refusal === null) this.requests++;
    return refusal;
  }

  /** Counts bytes; false once the run has moved more than its budget allows. */
  addBytes(n: number): boolean {
    this.bytes += n;
    return this.bytes <= this.limits.maxBytes;
  }

  overBytesReason(): string {
    return `egress byte budget exceeded: this run may move ${this.limits.maxBytes} bytes; the connection was cut`;
  }

  /** `overBudget`: requests refused because the budget was spent. */
  usage(): { requests: number; bytes: number; overBudget: number } {
    return { requests: this.requests, bytes: this.bytes, overBudget: this.refusedOverBudget };
  }
}
