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

export interface ToolRequest {
  id: number;
  tool: CellToolName;
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
