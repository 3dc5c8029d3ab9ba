import type { ToolRequest, ToolResponse } from './tool-protocol.js';

export interface Mount {
  hostPath: string;
  cellPath: string;
  readOnly: boolean;
}

/** What a cell is allowed: its mounts, its environment, its limits. Nothing else reaches it. */
export interface CellSpec {
  /** Used in names and labels; [a-z0-9_-]. */
  groupName: string;
  mounts: Mount[];
  /** The whole environment of the cell's processes: an explicit allowlist, never the host's. */
  env: Record<string, string>;
  workdir: string;
  /** Host file of the tool server, mounted read-only at TOOL_SERVER_CELL_PATH. */
  toolServerPath: string;
  limits: { memoryMb: number; pids: number; cpus: number };
}

export const TOOL_SERVER_CELL_PATH = '/opt/nanocell/tool-server.mjs';

/** A running cell. `call` never rejects: a dead cell, a timeout or a bad path is a response. */
export interface Cell {
  readonly id: string;
  call(request: Omit<ToolRequest, 'id'>): Promise<ToolResponse>;
  /** True until the cell's process has exited. */
  readonly alive: boolean;
  stop(): Promise<void>;
}

export interface RuntimeStatus {
  ok: boolean;
  /** One line: version, or what is wrong and how to fix it. */
  detail: string;
}

/**
 * Runs tool calls in isolation. A non-zero exit or a timeout is a result, not a throw;
 * `start` rejects (with RuntimeUnavailableError) only when the runtime itself is unusable:
 * binary missing, daemon down, image or root filesystem not built.
 */
export interface CellRuntime {
  readonly name: string;
  status(): Promise<RuntimeStatus>;
  start(spec: CellSpec, signal?: AbortSignal): Promise<Cell>;
}

export class RuntimeUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeUnavailableError';
  }
}
