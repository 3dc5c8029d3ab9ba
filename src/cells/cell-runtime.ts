import type { ToolRequest, ToolResponse } from './tool-protocol.js';

export interface Mount {
  hostPath: string;
  cellPath: string;
  readOnly: boolean;
}

export interface CellLimits {
  memoryMb: number;
  pids: number;
  cpus: number;
  /** Default wall time of one tool call (a request may ask for less or more). */
  callTimeoutMs: number;
  /** Cap on one tool call's output: a call may ask for less, never more (the host's bound on
   *  the cell's answers derives from it). */
  maxOutputBytes: number;
}

/**
 * A cell never has a network interface of its own. With `egress-proxy`, the host's proxy
 * socket is mounted into it and is its only way out.
 */
export type CellNetwork = { mode: 'none' } | { mode: 'egress-proxy'; socketPath: string };

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
  limits: CellLimits;
  network: CellNetwork;
  /**
   * The group's own root filesystem (bwrap) and image (docker, podman), built with the
   * packages its owner listed; the runtime's base when absent. Never from a cell or a model.
   */
  rootfs?: string;
  image?: string;
}

/** A tool call as a caller makes it; limits left out come from the cell's spec. */
export type CellCall = Omit<ToolRequest, 'id' | 'timeoutMs' | 'maxOutputBytes'> &
  Partial<Pick<ToolRequest, 'timeoutMs' | 'maxOutputBytes'>>;

export const TOOL_SERVER_CELL_PATH = '/opt/nanocell/tool-server.mjs';

/**
 * How a runtime that gives each cell its own PID namespace starts the tool server: the flag
 * lets it kill every process a call left behind (tool-server.ts, CellProcesses). A runtime
 * that runs the tool server without one (or a test fake on the host) must never pass it.
 */
export const TOOL_SERVER_IN_OWN_PID_NAMESPACE = [
  '/bin/bash',
  '-c',
  // The file-size cap (RLIMIT_FSIZE, soft and hard) is set once, here, for the whole cell:
  // no process in it can raise it again, and each bash call is then one process (issue 17).
  'n=$((${NANOCELL_MAX_FILE_BYTES:-1073741824} / 1024)); ulimit -f $((n > 0 ? n : 1)) && ' +
    `exec /usr/bin/node ${TOOL_SERVER_CELL_PATH} --own-pid-namespace`,
] as const;

/** A running cell. `call` never rejects: a dead cell, a timeout or a bad path is a response. */
export interface Cell {
  readonly id: string;
  call(request: CellCall): Promise<ToolResponse>;
  /** True until the cell's process has exited. */
  readonly alive: boolean;
  /** The host process that holds the cell (bwrap, `docker run`, ...), when there is one. */
  readonly pid?: number | undefined;
  /**
   * The host pid whose process tree holds the cell's own processes, when it is not `pid`
   * (a container's first process, not the engine's client); for memory readings only.
   */
  readonly memoryPid?: number | undefined;
  stop(): Promise<void>;
}

export interface RuntimeStatus {
  ok: boolean;
  /** One line: version, or what is wrong and how to fix it. */
  detail: string;
  /** The isolation this runtime gives on this host, checked, e.g. "seccomp", "pids limit". */
  enforced?: string[];
  /** Hardening it does not give here: said out loud, never silently missing. */
  notEnforced?: string[];
}

/**
 * Runs tool calls in isolation. A non-zero exit or a timeout is a result, not a throw;
 * `start` rejects (with RuntimeUnavailableError) only when the runtime itself is unusable:
 * binary missing, daemon down, image or root filesystem not built.
 */
export interface CellRuntime {
  readonly name: string;
  /** Whether the runtime works here and what it enforces; never rejects. */
  status(): Promise<RuntimeStatus>;
  start(spec: CellSpec, signal?: AbortSignal): Promise<Cell>;
  /**
   * Remove cells a previous run of this install left behind (a crash, a kill -9) and return
   * how many. Only runtimes whose cells can outlive the host process have it; call it once
   * at start-up, before the first cell starts. Cells of a host process still running (e.g.
   * a `chat` next to an `ask`) are left alone.
   */
  removeOrphans?(): number;
  /** Stop what the runtime keeps beside its cells (namespace holders); after the last cell. */
  close?(): Promise<void>;
  /**
   * Who the cell's processes are on the host: the owner a file or socket needs for the cell to
   * use it (the group folder, the egress socket).
   */
  cellUser?(): { hostOwnerUid: number; hostOwnerGid: number };
}

export class RuntimeUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeUnavailableError';
  }
}
