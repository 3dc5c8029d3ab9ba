import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ToolOutcome } from '../agent/agent-loop.js';
import type { ToolDefinition } from '../agent/model-provider.js';
import type { Cell } from '../cells/cell-runtime.js';
import { capText } from '../run/reply-cap.js';
import { CellTransport } from './cell-transport.js';
import { isRemoteServer, type McpRemoteServer, type McpServerConfig } from './mcp-config.js';
import { remoteTransport, type RemoteEgress } from './remote-transport.js';
import { offerTools, type OfferedTool } from './offer-tools.js';

/** initialize and tools/list: a server that takes longer to come up is reported, not waited on. */
export const MCP_CONNECT_TIMEOUT_MS = 15_000;
/** The host's own timeout waits past the cell's, so the cell's answer (with its why) comes first. */
const HOST_TIMEOUT_SLACK_MS = 10_000;
/** A remote server has no cell timing it: the host's timeout is the only one. */
const slackFor = (server: McpServerConfig): number =>
  isRemoteServer(server) ? 0 : HOST_TIMEOUT_SLACK_MS;
const MAX_INPUT_BYTES = 256 * 1024;
export const DEFAULT_MAX_MCP_RESULT_CHARS = 30_000;

/** The MCP tools of one run, on the servers started in its cell. */
export interface McpTools {
  readonly definitions: ToolDefinition[];
  /** undefined when `name` is not one of these tools. Never rejects: failures are outcomes. */
  execute(
    name: string,
    input: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<ToolOutcome> | undefined;
  /**
   * The tool sends its input out of the host (a remote server's): an outbound action, which
   * the policy gate asks the owner about once the run has read untrusted content.
   */
  sendsOut(name: string): boolean;
  /** Stops the servers (in a cell that is still running) and ends remote sessions. */
  close(): Promise<void>;
}

export interface McpToolsOptions {
  /** Where the stdio servers run; none when only remote servers are listed. */
  cell?: Cell | undefined;
  servers: readonly McpServerConfig[];
  /** The run's egress, for remote servers; undefined route: the group has none. */
  remote?: (Omit<RemoteEgress, 'route'> & { route: RemoteEgress['route'] | undefined }) | undefined;
  log: Logger;
  /** Tell the owner about `server` (deduplicated by the caller). */
  report: (server: string, text: string) => void;
  /** A server's result reached the run: label it untrusted (src/guard/provenance.ts). */
  taint: (server: string) => void;
  connectTimeoutMs?: number;
  maxResultChars?: number;
}

interface Session {
  server: McpServerConfig;
  client: Client;
  transport: Transport & { failure?: string | undefined };
  reported: boolean;
}

/** How long a remote server is given to end its session when the run is over. */
const END_SESSION_TIMEOUT_MS = 2000;

/** Loose on purpose: the server's word is checked field by field (offerTools, resultText). */
const ListResult = z.looseObject({ tools: z.array(z.unknown()) });
const CallResult = z.looseObject({
  content: z.array(z.unknown()).optional(),
  structuredContent: z.unknown().optional(),
  isError: z.boolean().optional(),
});

/**
 * Start each server in the cell, connect to it and offer its tools. A server that cannot start,
 * does not answer initialize or tools/list in time, or lists bad tools is reported to the owner
 * and offers what it validly can (maybe nothing); the run goes on either way.
 */
export async function openMcpTools(o: McpToolsOptions): Promise<McpTools> {
  const connectTimeoutMs = o.connectTimeoutMs ?? MCP_CONNECT_TIMEOUT_MS;
  const sessions: Session[] = [];
  const offered = new Map<string, { session: Session; tool: OfferedTool }>();
  await Promise.all(
    o.servers.map(async (server) => {
      const transport = transportFor(o, server, connectTimeoutMs);
      if (!transport) return;
      const client = new Client({ name: 'nanocell', version: '1' }, { capabilities: {} });
      const session: Session = { server, client, transport, reported: false };
      try {
        await client.connect(transport, { timeout: connectTimeoutMs + slackFor(server) });
        const listed = await client.request({ method: 'tools/list' }, ListResult, {
          timeout: connectTimeoutMs + slackFor(server),
        });
        sessions.push(session);
        const { tools, dropped } = offerTools(server.name, listed.tools);
        for (const tool of tools) offered.set(tool.definition.name, { session, tool });
        if (dropped.length > 0) {
          o.report(
            server.name,
            `MCP server ${server.name}: not offered to the model: ${dropped.join('; ')}`,
          );
        }
        o.log.info(
          { server: server.name, tools: tools.length, dropped: dropped.length },
          'mcp server connected',
        );
      } catch (err) {
        const why = transport.failure ?? (err as Error).message;
        o.log.warn({ server: server.name, err }, 'mcp server did not start');
        o.report(
          server.name,
          isRemoteServer(server)
            ? `MCP server ${server.name} (${server.url}) could not be reached: ${why}.${ruleHint(server, o.remote?.groupName ?? '', why)}`
            : `MCP server ${server.name} did not start in the cell: ${why}. Check its entry in mcp.json.`,
        );
        await client.close().catch(() => undefined);
      }
    }),
  );
  const maxChars = o.maxResultChars ?? DEFAULT_MAX_MCP_RESULT_CHARS;
  return {
    definitions: [...offered.values()].map((t) => t.tool.definition),
    sendsOut(name) {
      const found = offered.get(name);
      return found !== undefined && isRemoteServer(found.session.server);
    },
    execute(name, input, signal) {
      const found = offered.get(name);
      if (!found) return undefined;
      return callTool(o, found.session, found.tool, input, maxChars, signal);
    },
    async close() {
      await Promise.all(
        sessions.map((s) =>
          endRemoteSession(s)
            .then(() => s.client.close())
            .catch((err: unknown) =>
              o.log.warn({ server: s.server.name, err }, 'mcp server did not stop'),
            ),
        ),
      );
    },
  };
}

/** The transport to one server; undefined (reported) when it cannot have one in this run. */
function transportFor(
  o: McpToolsOptions,
  server: McpServerConfig,
  connectTimeoutMs: number,
): Session['transport'] | undefined {
  if (!isRemoteServer(server)) {
    if (!o.cell) return undefined;
    return new CellTransport(o.cell, server, (method) =>
      method === 'tools/call' ? server.callTimeoutMs : connectTimeoutMs,
    );
  }
  const remote = o.remote;
  if (!remote?.route) {
    o.report(
      server.name,
      `MCP server ${server.name} (${server.url}) is not used in group ${remote?.groupName ?? '?'}: the group has no egress rule, so the host may not reach it for the group. The owner can allow it with \`${ruleFor(server)}\` in policy/groups/${remote?.groupName ?? 'GROUP'}.policy (in the owner's config dir).`,
    );
    return undefined;
  }
  return remoteTransport(server, { ...remote, route: remote.route });
}

/** The rule that lets the proxy read (and so broker and credential) a remote server's requests. */
export function ruleFor(server: McpRemoteServer): string {
  const url = new URL(server.url);
  return `allow http domain="${url.hostname}" path="${url.pathname}"`;
}

function ruleHint(server: McpServerConfig, groupName: string, why: string): string {
  if (!isRemoteServer(server) || !/no allow http rule covers it/.test(why)) return '';
  return ` The owner can allow it with \`${ruleFor(server)}\` in policy/groups/${groupName}.policy.`;
}

/** A remote server is told the session is over (DELETE), briefly; a cell server just stops. */
async function endRemoteSession(s: Session): Promise<void> {
  const t = s.transport as Partial<{ terminateSession(): Promise<void>; sessionId: string }>;
  if (!isRemoteServer(s.server) || !t.sessionId || !t.terminateSession) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    t.terminateSession().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, END_SESSION_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
}

async function callTool(
  o: McpToolsOptions,
  session: Session,
  tool: OfferedTool,
  input: Record<string, unknown>,
  maxChars: number,
  signal?: AbortSignal,
): Promise<ToolOutcome> {
  const { server } = session;
  if (Buffer.byteLength(JSON.stringify(input)) > MAX_INPUT_BYTES) {
    return {
      output: `the input is larger than ${MAX_INPUT_BYTES} bytes; send less`,
      isError: true,
    };
  }
  try {
    const result = await session.client.request(
      { method: 'tools/call', params: { name: tool.toolName, arguments: input } },
      CallResult,
      { timeout: server.callTimeoutMs + slackFor(server), ...(signal ? { signal } : {}) },
    );
    o.taint(server.name);
    return { output: capText(resultText(result), maxChars), isError: result.isError === true };
  } catch (err) {
    const failure = session.transport.failure;
    if (failure && !session.reported) {
      session.reported = true;
      o.report(server.name, `MCP server ${server.name} stopped during a run: ${failure}`);
    }
    // Its error text is the server's too (or the cell's about it): untrusted either way.
    o.taint(server.name);
    const why = failure ?? (err as Error).message;
    return { output: capText(`MCP server ${server.name} failed: ${why}`, maxChars), isError: true };
  }
}

/** The result's content as text; what is not text is named, not inlined. */
function resultText(result: z.infer<typeof CallResult>): string {
  const parts: string[] = [];
  for (const raw of result.content ?? []) {
    const block = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    if (block.type === 'text' && typeof block.text === 'string') parts.push(block.text);
    else if (block.type === 'resource') {
      const res = block.resource as Record<string, unknown> | undefined;
      parts.push(typeof res?.text === 'string' ? res.text : `[resource ${String(res?.uri ?? '')}]`);
    } else if (block.type === 'resource_link')
      parts.push(`[resource link ${String(block.uri ?? '')}]`);
    else
      parts.push(
        `[${typeof block.type === 'string' ? block.type.slice(0, 20) : 'unknown'} content omitted]`,
      );
  }
  if (parts.length === 0 && result.structuredContent !== undefined) {
    return JSON.stringify(result.structuredContent);
  }
  return parts.length === 0 ? '(no content)' : parts.join('\n');
}
