import type net from 'node:net';
import type { CredentialBroker } from './credentials.js';
import type { EgressDecision, EgressGrant } from './egress-grant.js';
import type { EgressRunAccount } from './egress-run.js';
import type { ResolvedTarget } from './resolve-target.js';

/** What a decision must say; the rest (run, group, empty counts) is filled in. */
export type DecisionFields = Pick<
  EgressDecision,
  'allowed' | 'stage' | 'kind' | 'host' | 'method' | 'reason'
> &
  Partial<EgressDecision>;

/** What the HTTP and CONNECT handlers of one proxy share. */
export interface EgressContext {
  readonly grant: EgressGrant;
  readonly broker: CredentialBroker;
  /** The run a request starting now is counted against; undefined between runs. */
  currentRun(): EgressRunAccount | undefined;
  /** Records a decision of a request that started during `run` (so, under its identity). */
  record(fields: DecisionFields, run: EgressRunAccount | undefined): void;
  resolve(host: string): Promise<ResolvedTarget>;
  /** Extra CA certificates trusted for upgraded (HTTPS) upstreams; tests only. */
  readonly upstreamCa: string | Buffer | undefined;
  readonly idleTimeoutMs: number;
  /** Registers an upstream socket so close() can end it. */
  track(socket: net.Socket): void;
}
