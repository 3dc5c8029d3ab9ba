/**
 * Egress per run: every request is counted against the run (a message turn or a task run)
 * that was going on when it started, and carries that run's identity into the audit log.
 * Between runs the proxy lets nothing out and a run's connections end with it, so what one
 * run leaves behind cannot spend a later run's budget or keep a tunnel open into it.
 */
import crypto from 'node:crypto';
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

/**
 * One request the host makes for a run, whose content the host chose or the policy gate let
 * through (an MCP call to a remote server): the data-flow guard does not hold it. Rules,
 * budget and audit still decide it. Bound to what the proxy will see of the request.
 */
export interface EgressPassScope {
  method: string;
  /** As the proxy canonicalises it (lower case, no brackets). */
  host: string;
  /** The URL path for a request the proxy reads; absent for a CONNECT (which has none). */
  path?: string;
  /** What the request is for, as the audit log says it (e.g. `MCP server notes`). */
  purpose: string;
}

/** The request header that carries a pass; the proxy takes it off before forwarding. */
export const EGRESS_PASS_HEADER = 'x-nanocell-pass';
/** Passes not yet used, per run, at most; an older one is dropped for a newer. */
const MAX_OPEN_PASSES = 256;

/** What a run holds while it goes on: its live usage, and end() when it is over. */
export interface EgressRunHandle {
  readonly runId: string;
  usage(): EgressRunUsage;
  /**
   * A one-use token for one request of the host's (sent in EGRESS_PASS_HEADER): unguessable,
   * so a cell, which reaches the same proxy, cannot make one; void when the run ends.
   */
  pass(scope: EgressPassScope): string;
  /** From now on this run's cell gets nothing out; its open connections are cut. Idempotent. */
  end(): void;
}

export class EgressRunAccount {
  readonly budget: EgressBudgetCounter;
  private refused = 0;
  private ended = false;
  /** How to cut each connection of this run that is still open. */
  private readonly open = new Set<() => void>();
  private readonly passes = new Map<string, EgressPassScope>();

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

  issuePass(scope: EgressPassScope): string {
    const token = crypto.randomBytes(24).toString('base64url');
    if (this.ended) return token;
    if (this.passes.size >= MAX_OPEN_PASSES) {
      const oldest = this.passes.keys().next().value;
      if (oldest !== undefined) this.passes.delete(oldest);
    }
    this.passes.set(token, scope);
    return token;
  }

  /**
   * Uses up a pass: its scope when it was issued to this run for this very request, else
   * undefined (and a token that matched but for another request is spent all the same).
   */
  redeemPass(
    token: string,
    seen: { method: string; host: string; path?: string },
  ): EgressPassScope | undefined {
    const scope = this.passes.get(token);
    if (!scope) return undefined;
    this.passes.delete(token);
    const same =
      scope.method.toUpperCase() === seen.method.toUpperCase() &&
      scope.host === seen.host &&
      scope.path === seen.path;
    return same ? scope : undefined;
  }

  /** The run is over: every connection it opened is cut, tunnels included. */
  end(): void {
    this.ended = true;
    this.passes.clear();
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
    // No proxy to show it to: the request it was for finds no way out anyway.
    pass: () => crypto.randomBytes(24).toString('base64url'),
    end: () => undefined,
  };
}

/** Why a request between runs is refused. */
export function noRunReason(groupName: string): string {
  return `no run of group ${groupName} is going on: egress is open only during a run, so nothing a run leaves behind gets out`;
}
