/**
 * The host's egress proxy for one task's cell: an HTTP proxy (plain absolute-form requests
 * and CONNECT) on a unix socket that is mounted into the cell, its only way out. Default
 * deny; every decision goes to onDecision for the audit log.
 */
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { openTunnel } from './connect-tunnel.js';
import { CredentialBroker } from './credentials.js';
import type { DecisionFields, EgressContext } from './egress-context.js';
import {
  InvalidGrantError,
  parseEgressGrant,
  type EgressBudget,
  type EgressDecision,
  type EgressGrant,
} from './egress-grant.js';
import {
  EgressRunAccount,
  runLimits,
  type EgressRunHandle,
  type EgressRunIdentity,
} from './egress-run.js';
import { rawRefusal, sendRefusal } from './http-headers.js';
import { forwardHttp } from './http-forward.js';
import { resolveTarget, systemResolver, type Resolver } from './resolve-target.js';

export interface EgressProxyOptions {
  grant: EgressGrant;
  /** Receives every decision, allowed or refused. Must not throw. */
  onDecision: (decision: EgressDecision) => void;
  /** Default: the system resolver (dns.lookup, all addresses). */
  resolve?: Resolver;
  /**
   * TESTS ONLY: addresses connected to although not public, so a test upstream on
   * 127.0.0.1 can be reached. Production never sets this.
   */
  allowAddresses?: readonly string[];
  /** TESTS ONLY: extra CA certificates trusted for upgraded (HTTPS) upstreams. */
  upstreamCa?: string | Buffer;
  /** A connection with no data either way for this long is closed. Default 2 minutes. */
  idleTimeoutMs?: number;
}

export interface EgressListenOptions {
  /** Socket file mode. Default 0o600: only the owner (and root) may connect. */
  mode?: number;
  /** Owner of the socket file, e.g. the cell's uid when it is not the host user's. */
  uid?: number;
  gid?: number;
}

export class EgressProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly grant: EgressGrant;
  private run: EgressRunAccount | undefined;

  /** Throws InvalidGrantError when the grant is malformed (check it with parseEgressGrant). */
  constructor(options: EgressProxyOptions) {
    const parsed = parseEgressGrant(options.grant);
    if (!parsed.ok) throw new InvalidGrantError(parsed.reason);
    const grant = parsed.grant;
    this.grant = grant;
    const resolver = options.resolve ?? systemResolver;
    const allow = new Set(options.allowAddresses ?? []);
    const ctx: EgressContext = {
      grant,
      broker: new CredentialBroker(grant.credentials),
      currentRun: () => this.run,
      record: (fields, run) => {
        if (!fields.allowed && fields.stage === 'decided') run?.countRefusal();
        options.onDecision(this.decision(grant, fields, run));
      },
      resolve: (host) => resolveTarget(host, resolver, allow),
      upstreamCa: options.upstreamCa,
      idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
      track: (socket) => this.track(socket),
    };

    this.server = http.createServer();
    this.server.on('connection', (socket: net.Socket) => this.track(socket));
    this.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      forwardHttp(ctx, req, res).catch((err: unknown) => {
        // A bug in the proxy, not a decision: refuse (fail closed) and say so in the audit.
        const reason = `egress proxy error: ${(err as Error).message}`;
        ctx.record(
          {
            allowed: false,
            stage: 'decided',
            kind: 'http',
            host: '',
            method: '',
            reason,
          },
          this.run,
        );
        if (res.headersSent) res.destroy();
        else sendRefusal(res, 500, reason);
      });
    });
    this.server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      openTunnel(ctx, req, socket, head).catch((err: unknown) => {
        const reason = `egress proxy error: ${(err as Error).message}`;
        ctx.record(
          {
            allowed: false,
            stage: 'decided',
            kind: 'connect',
            host: '',
            method: 'CONNECT',
            reason,
          },
          this.run,
        );
        socket.destroy();
      });
    });
    // WebSocket and other upgrades over plain HTTP would leave the rules behind after the
    // handshake; wss:// through CONNECT works where the domain allows it.
    this.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      const host = URL.canParse(req.url ?? '') ? new URL(req.url ?? '').hostname : '';
      const reason =
        'protocol upgrades over plain HTTP are not proxied: use wss:// or https:// (CONNECT)';
      ctx.record(
        {
          allowed: false,
          stage: 'decided',
          kind: 'http',
          host,
          method: req.method ?? '',
          reason,
        },
        this.run,
      );
      socket.end(rawRefusal(403, reason));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      if (!err.code?.startsWith('HPE_')) {
        socket.destroy();
        return;
      }
      const reason = `malformed HTTP request (${err.code})`;
      ctx.record(
        { allowed: false, stage: 'decided', kind: 'http', host: '', method: '', reason },
        this.run,
      );
      if (socket.writable) socket.end(rawRefusal(400, reason));
      else socket.destroy();
    });
  }

  /** Starts listening on a unix socket at `socketPath` (a stale socket file there is replaced). */
  async listen(socketPath: string, options: EgressListenOptions = {}): Promise<void> {
    const existing = fs.lstatSync(socketPath, { throwIfNoEntry: false });
    if (existing?.isSocket()) fs.unlinkSync(socketPath);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(socketPath, options.mode ?? 0o600);
    if (options.uid !== undefined || options.gid !== undefined) {
      fs.chownSync(socketPath, options.uid ?? -1, options.gid ?? -1);
    }
  }

  /** Stops listening and cuts every open connection, tunnels included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /**
   * Opens egress for one run: requests from now on count against it (within the grant's
   * limits and the run's own, if tighter) and carry its identity. A run that begins ends
   * the one before it; between runs every request is refused, and when a run ends its open
   * connections are cut.
   */
  beginRun(identity: EgressRunIdentity, limits: Partial<EgressBudget> = {}): EgressRunHandle {
    const account = new EgressRunAccount(identity, runLimits(this.grant.budget, limits));
    this.run?.end();
    this.run = account;
    return {
      runId: identity.runId,
      usage: () => account.usage(),
      pass: (scope) => account.issuePass(scope),
      end: () => {
        if (this.run === account) this.run = undefined;
        account.end();
      },
    };
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private decision(
    grant: EgressGrant,
    fields: DecisionFields,
    run: EgressRunAccount | undefined,
  ): EgressDecision {
    return {
      runId: run?.identity.runId ?? null,
      taskId: run?.identity.taskId ?? null,
      groupName: grant.groupName,
      port: null,
      path: null,
      address: null,
      rule: null,
      credentials: [],
      bytesUp: 0,
      bytesDown: 0,
      pass: null,
      ...fields,
    };
  }
}
