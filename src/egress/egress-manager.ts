import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { sha256Hex, canonicalJson } from '../audit/canonical-json.js';
import type { PolicyLayers } from '../policy/rules.js';
import type { EgressBudget, EgressDecision, EgressGrant } from './egress-grant.js';
import { noEgressRun, type EgressRunHandle, type EgressRunIdentity } from './egress-run.js';
import type { EgressSetup } from './grant-from-policy.js';
import { EgressProxy } from './egress-proxy.js';

/** The proxy's address inside every cell granted egress. */
export const CELL_PROXY_URL = 'http://127.0.0.1:3128';

interface Live {
  key: string;
  proxy: EgressProxy;
  socketPath: string;
  env: Record<string, string>;
  policy: PolicyLayers;
  credentials: RouteCredential[];
}

/** A credential as a host tool may use it: its placeholder, never its secret. */
export interface RouteCredential {
  host: string;
  header: string | undefined;
  placeholder: string;
}

/** A group's live proxy as a host tool reaches it (web_fetch, web_search). */
export interface EgressRoute {
  socketPath: string;
  /** The rules the proxy decides by: for choosing how to ask, never instead of asking. */
  policy: PolicyLayers;
  /** Placeholders the proxy swaps for a secret on their host (web_search's key). */
  credentials?: readonly RouteCredential[];
}

/** Where the group's run folder (socket and forwarder) appears in its cell, read-only. */
export const CELL_EGRESS_DIR = '/run/nanocell';

export interface PreparedEgress {
  socketPath: string;
  /** The host folder to mount read-only at CELL_EGRESS_DIR. */
  dir: string;
  /** Proxy settings and credential placeholders for the cell's environment. */
  env: Record<string, string>;
  /** The grant differs from the one the group's running cell was started with. */
  changed: boolean;
}

/**
 * One egress proxy per group whose policy grants network access, listening on a unix socket
 * in a private directory that the group's cell mounts. A grant that changes gets a new proxy
 * (and new placeholders); the caller restarts the cell so the two match.
 */
export class EgressManager {
  private readonly live = new Map<string, Live>();

  constructor(
    private readonly runDir: string,
    /** The compiled egress forwarder, copied next to the socket for the cell to run. */
    private readonly forwarderPath: string,
    private readonly onDecision: (d: EgressDecision) => void,
    private readonly log: Logger,
  ) {}

  async prepare(
    groupName: string,
    setup: EgressSetup | undefined,
    owner: { uid: number; gid: number },
  ): Promise<PreparedEgress | undefined> {
    const current = this.live.get(groupName);
    if (!setup) {
      if (current) await this.close(groupName);
      return undefined;
    }
    const key = grantKey(setup.grant);
    if (current && current.key === key) {
      return {
        socketPath: current.socketPath,
        dir: path.dirname(current.socketPath),
        env: current.env,
        changed: false,
      };
    }
    if (current) await this.close(groupName);
    const dir = path.join(this.runDir, groupName);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(this.runDir, 0o711);
    fs.chmodSync(dir, 0o755);
    const socketPath = path.join(dir, 'egress.sock');
    fs.rmSync(socketPath, { force: true });
    fs.copyFileSync(this.forwarderPath, path.join(dir, 'egress-forwarder.mjs'));
    fs.chmodSync(path.join(dir, 'egress-forwarder.mjs'), 0o644);
    const proxy = new EgressProxy({ grant: setup.grant, onDecision: this.onDecision });
    await proxy.listen(socketPath, { mode: 0o600, uid: owner.uid, gid: owner.gid });
    const env = {
      ...setup.env,
      HTTP_PROXY: CELL_PROXY_URL,
      HTTPS_PROXY: CELL_PROXY_URL,
      http_proxy: CELL_PROXY_URL,
      https_proxy: CELL_PROXY_URL,
    };
    const credentials = setup.grant.credentials.map((c) => ({
      host: c.host,
      header: c.header,
      placeholder: c.placeholder,
    }));
    this.live.set(groupName, {
      key,
      proxy,
      socketPath,
      env,
      policy: setup.grant.policy,
      credentials,
    });
    const rules = setup.grant.policy.defaults.length + setup.grant.policy.group.length;
    this.log.info({ group: groupName, rules }, 'egress proxy listening');
    return { socketPath, dir, env, changed: current !== undefined };
  }

  /**
   * Opens the group's egress for one run (see EgressProxy.beginRun); a group without a
   * proxy gets a handle that counts nothing. Call after prepare(), end() when the run is over.
   */
  beginRun(
    groupName: string,
    identity: EgressRunIdentity,
    limits: Partial<EgressBudget> = {},
  ): EgressRunHandle {
    const current = this.live.get(groupName);
    return current ? current.proxy.beginRun(identity, limits) : noEgressRun(identity.runId);
  }

  /** The group's proxy for a host tool; undefined when its policy grants no egress. */
  route(groupName: string): EgressRoute | undefined {
    const current = this.live.get(groupName);
    return current
      ? {
          socketPath: current.socketPath,
          policy: current.policy,
          credentials: current.credentials,
        }
      : undefined;
  }

  async close(groupName: string): Promise<void> {
    const current = this.live.get(groupName);
    if (!current) return;
    this.live.delete(groupName);
    await current.proxy.close();
    fs.rmSync(current.socketPath, { force: true });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((g) => this.close(g)));
  }
}

/** What makes two grants the same, placeholders aside (they are drawn anew for each proxy). */
function grantKey(grant: EgressGrant): string {
  return sha256Hex(
    canonicalJson({
      policy: grant.policy,
      budget: grant.budget,
      credentials: grant.credentials.map((c) => ({
        host: c.host,
        header: c.header ?? null,
        secret: sha256Hex(c.secret),
      })),
    }),
  );
}
