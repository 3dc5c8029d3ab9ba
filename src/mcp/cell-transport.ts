import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Cell } from '../cells/cell-runtime.js';
import type { McpCellServer } from './mcp-config.js';

/** How long the cell may take to start a server's process. */
const START_TIMEOUT_MS = 10_000;
/** JSON-RPC "server error" range: what the host answers for a server that could not. */
const SERVER_GONE = -32000;

/**
 * The MCP SDK's Transport over a cell: each JSON-RPC message goes to the server inside the cell
 * as one `mcp_send` call (src/cells/tool-protocol.ts), and a request's answer comes back as that
 * call's output. Nothing the server says is trusted: an answer that is not one well-formed
 * JSON-RPC response to the request it answers is replaced by an error response saying so, and a
 * server the cell had to stop (crash, hang, flood) answers every request with why.
 */
export class CellTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Why the server stopped answering, once it has: its tools say it without asking again. */
  failure: string | undefined;
  private closed = false;

  constructor(
    private readonly cell: Cell,
    private readonly server: McpCellServer,
    /** Wall time the cell gives the server to answer one request with this method. */
    private readonly timeoutFor: (method: string) => number,
  ) {}

  async start(): Promise<void> {
    const { name, command, args, env } = this.server;
    const res = await this.cell.call({
      tool: 'mcp_start',
      input: { name, command, args, env },
      timeoutMs: START_TIMEOUT_MS,
    });
    if (!res.ok) {
      this.failure = res.output;
      throw new Error(res.output);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error(`the connection to MCP server ${this.server.name} is closed`);
    const method = 'method' in message ? message.method : undefined;
    const id = 'id' in message ? message.id : undefined;
    const call = this.cell.call({
      tool: 'mcp_send',
      input: { name: this.server.name, message },
      timeoutMs: this.timeoutFor(method ?? ''),
    });
    if (method === undefined || id === undefined) {
      const res = await call;
      if (!res.ok) this.onerror?.(new Error(res.output));
      return;
    }
    // A request is sent once the cell has it; its answer arrives later, through onmessage.
    void call.then((res) => this.deliver(id, res.ok ? answerTo(id, res.output) : res.output));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.cell.alive)
      await this.cell.call({ tool: 'mcp_stop', input: { name: this.server.name } });
    this.onclose?.();
  }

  private deliver(id: string | number, answer: JSONRPCMessage | string): void {
    if (this.closed) return;
    if (typeof answer !== 'string') {
      this.onmessage?.(answer);
      return;
    }
    // Anything but a too-large answer means the server (or its cell) is gone.
    if (!answer.includes('too large')) this.failure = answer;
    this.onmessage?.({ jsonrpc: '2.0', id, error: { code: SERVER_GONE, message: answer } });
  }
}

/** The server's answer to request `id`, or why it is not one. */
export function answerTo(id: string | number, output: string): JSONRPCMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(output);
  } catch {
    return 'the MCP server answered with something that is not JSON';
  }
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) return 'the MCP server answered with a malformed JSON-RPC message';
  const msg = parsed.data;
  if ('method' in msg || !('id' in msg) || msg.id !== id) {
    return 'the MCP server answered with a message that is not the response to this request';
  }
  return msg;
}
