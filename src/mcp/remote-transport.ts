import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { EgressRoute } from '../egress/egress-manager.js';
import type { EgressPassScope } from '../egress/egress-run.js';
import { proxyFetchLike, type FetchLike } from '../egress/proxy-fetch-like.js';
import { viaFor } from '../tools/web-egress.js';
import type { McpRemoteServer } from './mcp-config.js';

/** One answer of a remote server, at most (a tool result is cut far shorter for the model). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Past the SDK's own timeouts (a server may hold a call's answer until its result is ready). */
const HEAD_TIMEOUT_SLACK_MS = 5_000;
const MIN_HEAD_TIMEOUT_MS = 15_000;

/** What a run gives the host's client of a remote server: the group's proxy and its passes. */
export interface RemoteEgress {
  groupName: string;
  route: EgressRoute;
  pass: (scope: EgressPassScope) => string;
}

/**
 * The SDK's Streamable HTTP client, every request of it through the group's egress proxy. The
 * host does not listen for messages the server starts (the optional GET stream): it is answered
 * here as a server without one would answer (405), so no long-lived request holds the run's
 * egress open and counts against its budget.
 */
export function remoteTransport(
  server: McpRemoteServer,
  egress: RemoteEgress,
): StreamableHTTPClientTransport & { failure: string | undefined } {
  const url = new URL(server.url);
  // A server that floods is stopped for the rest of the run: closing fails what is pending.
  const onCut = (reason: string): void => {
    transport.failure = `${reason}, so the host stopped using MCP server ${server.name} for this run`;
    void transport.close();
  };
  const viaProxy = proxyFetchLike({
    socketPath: egress.route.socketPath,
    via: (u, method) => viaFor(egress.route, egress.groupName, u, method),
    pass: egress.pass,
    purpose: `MCP server ${server.name}`,
    extraHeaders: (u) => credentialHeaders(egress.route, u),
    maxBytes: MAX_ANSWER_BYTES,
    headTimeoutMs: Math.max(server.callTimeoutMs, MIN_HEAD_TIMEOUT_MS) + HEAD_TIMEOUT_SLACK_MS,
    onCut,
  });
  const fetch: FetchLike = (input, init) =>
    (init?.method ?? 'GET').toUpperCase() === 'GET'
      ? Promise.resolve(new Response(null, { status: 405 }))
      : viaProxy(input, init);
  const transport = Object.assign(
    new StreamableHTTPClientTransport(url, {
      fetch,
      reconnectionOptions: {
        maxRetries: 0,
        initialReconnectionDelay: 1000,
        maxReconnectionDelay: 1000,
        reconnectionDelayGrowFactor: 1,
      },
    }),
    { failure: undefined as string | undefined },
  );
  return transport;
}

/**
 * The placeholder of each credential the owner bound to a header for this host: the proxy
 * swaps it for the secret (credentials/GROUP.json), so the key reaches neither model nor cell.
 */
function credentialHeaders(route: EgressRoute, url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of route.credentials ?? []) {
    if (c.host === url.hostname.toLowerCase() && c.header) out[c.header] = c.placeholder;
  }
  return out;
}
