/**
 * Egress per run: every request is counted against the run (a message turn or a task run)
 * that was going on when it started, and carries that run's identity into the audit log.
 * Between runs the proxy lets nothing out, so what one run leaves behind cannot spend a
 * later run's budget.
 */
import { EgressBudgetCounter } from './egress-budget.js';
import type { EgressBudget } from './egress-grant.js';

export interface EgressRunIdentity {
  runId: string;
  /** The scheduled task the run executes; absent for a message turn. */
  taskId?: string | undefined;
}

export interface EgressRunUsage {
  /** Requests allowed and started. */
  requests: number;
  bytes: number;
  /** Requests refused, for any reason. */
  refused: number;
  /** Of those, refused because the run's budget was spent. */
  overBudget: number;
}

/** What a run holds while it goes on: its live usage, and end() when it is over. */
export interface EgressRunHandle {
  readonly runId: string;
  usage(): EgressRunUsage;
  /** From now on this run's cell gets nothing out. Idempotent. */
  end(): void;
}

export class EgressRunAccount {
  readonly budget: EgressBudgetCounter;
  private refused = 0;

  constructor(
    readonly identity: EgressRunIdentity,
    limits: EgressBudget,
  ) {
    this.budget = new EgressBudgetCounter(limits);
  }

  countRefusal(): void {
    this.refused++;
  }

  usage(): EgressRunUsage {
    const { requests, bytes, overBudget } = this.budget.usage();
    return { requests, bytes, overBudget, refused: this.refused };
  }
}

/** The grant's limits, made tighter by the run's own where it sets them. */
export function runLimits(grant: EgressBudget, own: Partial<EgressBudget> = {}): EgressBudget {
  return {
    maxRequests: Math.min(grant.maxRequests, own.maxRequests ?? Infinity),
    maxBytes: Math.min(grant.maxBytes, own.maxBytes ?? Infinity),
  };
}

/** A handle for a group that has no egress at all: nothing is ever counted. */
export function noEgressRun(runId: string): EgressRunHandle {
  return {
    runId,
    usage: () => ({ requests: 0, bytes: 0, refused: 0, overBudget: 0 }),
    end: () => undefined,
  };
}

/** Why a request between runs is refused. */
export function noRunReason(groupName: string): string {
  return `no run of group ${groupName} is going on: egress is open only during a run, so nothing a run leaves behind gets out`;
}
