import type net from 'node:net';
import type { CredentialBroker } from './credentials.js';
import type { EgressBudgetCounter } from './egress-budget.js';
import type { EgressDecision, EgressGrant } from './egress-grant.js';
import type { ResolvedTarget } from './resolve-target.js';

/** What a decision must say; the rest (task, group, empty counts) is filled in. */
export type DecisionFields = Pick<
  EgressDecision,
  'allowed' | 'stage' | 'kind' | 'host' | 'method' | 'reason'
> &
  Partial<EgressDecision>;

/** What the HTTP and CONNECT handlers of one proxy share. */
export interface EgressContext {
  readonly grant: EgressGrant;
  readonly broker: CredentialBroker;
  readonly budget: EgressBudgetCounter;
  record(fields: DecisionFields): void;
  resolve(host: string): Promise<ResolvedTarget>;
  /** Extra CA certificates trusted for upgraded (HTTPS) upstreams; tests only. */
  readonly upstreamCa: string | Buffer | undefined;
  readonly idleTimeoutMs: number;
  /** Registers an upstream socket so close() can end it. */
  track(socket: net.Socket): void;
}
