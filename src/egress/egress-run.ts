/**
 * Egress per run: every request is counted against the run (a message turn or a task run)
 * that was going on when it started, and carries that run's identity into the audit log.
 * Between runs the proxy lets nothing out and a run's connections end with it, so what one
 * run leaves behind cannot spend a later run's budget or keep a tunnel open into it.
 */
import { EgressBudgetCounter } from './egress-budget.js';
import type { EgressBudget } from './egress-grant.js';
import type { GuardedRequest } from '../guard/egress-guard.js';

export interface EgressRunIdentity {
  runId: string;
  /** The scheduled task the run executes; absent for a message turn. */
  taskId?: string | undefined;
  /** Whether the run has read untrusted content now (for `when=` rules). */
  untrusted?: (() => boolean) | undefined;
  /** The data-flow guard (src/guard/egress-guard.ts): a reason to refuse, or undefined. */
  guard?: ((request: GuardedRequest) => string | undefined) | undefined;
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
  /** From now on this run's cell gets nothing out; its open connections are cut. Idempotent. */
  end(): void;
}

export class EgressRunAccount {
  readonly budget: EgressBudgetCounter;
  private refused = 0;
  private ended = false;
  /** How to cut each connection of this run that is still open. */
  private readonly open = new Set<() => void>();

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

  /**
   * Registers how to cut one of the run's open connections when the run ends (at once if it
   * has); returns how to forget it once the connection closes by itself.
   */
  onEnd(cut: () => void): () => void {
    if (this.ended) {
      cut();
      return () => undefined;
    }
    this.open.add(cut);
    return () => this.open.delete(cut);
  }

  /** The run is over: every connection it opened is cut, tunnels included. */
  end(): void {
    this.ended = true;
    const cuts = [...this.open];
    this.open.clear();
    for (const cut of cuts) cut();
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
