import type { EgressBudget as BudgetLimits } from './egress-grant.js';

/** One grant's egress budget: requests started and bytes moved in both directions. */
export class EgressBudgetCounter {
  private requests = 0;
  private bytes = 0;

  constructor(private readonly limits: BudgetLimits) {}

  /** Why a new request may not start, or null when it may. */
  refusal(): string | null {
    if (this.requests >= this.limits.maxRequests) {
      return `egress budget spent: this task may make ${this.limits.maxRequests} requests and has made ${this.requests}`;
    }
    if (this.bytes >= this.limits.maxBytes) {
      return `egress budget spent: this task may move ${this.limits.maxBytes} bytes and has moved ${this.bytes}`;
    }
    return null;
  }

  /** Starts a request if the budget allows: null, and it is counted; else why not. */
  tryStart(): string | null {
    const refusal = this.refusal();
    if (refusal === null) this.requests++;
    return refusal;
  }

  /** Counts bytes; false once the task has moved more than its budget allows. */
  addBytes(n: number): boolean {
    this.bytes += n;
    return this.bytes <= this.limits.maxBytes;
  }

  overBytesReason(): string {
    return `egress byte budget exceeded: this task may move ${this.limits.maxBytes} bytes; the connection was cut`;
  }

  usage(): { requests: number; bytes: number } {
    return { requests: this.requests, bytes: this.bytes };
  }
}
