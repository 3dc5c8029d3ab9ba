/**
 * The wire protocol between the host and the tool server inside a cell:
 * one JSON object per line on the cell's stdin (requests) and stdout (responses).
 * The tool server writes `{"ready":true}` once, when it can take requests.
 * This file holds types only, so the tool server can import it without pulling
 * host code into the cell.
 */

export const CELL_TOOL_NAMES = [
  'bash',
  'read_file',
  'write_file',
  'edit_file',
  'list_files',
  'grep',
] as const;

export type CellToolName = (typeof CELL_TOOL_NAMES)[number];

/**
 * Requests the host makes to run stdio MCP servers in the cell (never offered to the model):
 * `mcp_start {name, command, args, env}` starts (or restarts) one as a process group of its
 * own; `mcp_send {name, message}` writes one JSON-RPC message to it and, for a request, answers
 * with its JSON-RPC response as `output` (a notification is answered once written);
 * `mcp_stop {name}` kills it. A server that crashes, floods (a message past
 * MAX_MCP_MESSAGE_BYTES, or too many it was not asked for) or does not answer within the call's
 * timeout is killed, and every call to it answers `ok: false` with why.
 */
export const MCP_OPS = ['mcp_start', 'mcp_send', 'mcp_stop'] as const;
export type McpOp = (typeof MCP_OPS)[number];

/** One JSON-RPC message to or from an MCP server, at most this long (UTF-8). */
export const MAX_MCP_MESSAGE_BYTES = 512 * 1024;

/** An MCP server's name: also the prefix of its tools (`NAME__TOOL`) in policy rules. */
export const MCP_SERVER_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
export const MAX_MCP_SERVER_NAME_CHARS = 32;

export interface ToolRequest {
  id: number;
  tool: CellToolName | McpOp;
  input: Record<string, unknown>;
  /** Wall time for this call; the tool server kills the whole process tree when it passes. */
  timeoutMs: number;
  /** Output beyond this is cut, with a note saying how much was dropped. */
  maxOutputBytes: number;
}

export interface ToolResponse {
  id: number;
  /** false: the tool failed (bad path, non-zero exit, timeout); output says why. */
  ok: boolean;
  output: string;
}

export interface ReadySignal {
  ready: true;
}

/**
 * The largest response frame a tool server can honestly send for a call capped at
 * `maxOutputBytes`: JSON escapes a byte as at most 6 (`\u0000`), plus room for the id, the
 * truncation note and an error message. The host refuses longer frames (and the cell that sent
 * them) instead of buffering them.
 */
export function maxResponseFrameBytes(maxOutputBytes: number): number {
  return Math.max(1024 * 1024, 6 * maxOutputBytes + 64 * 1024);
}
