import type net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  RuntimeUnavailableError,
  type Cell,
  type CellCall,
  type CellLimits,
} from './cell-runtime.js';
import { FrameReader } from './frame-reader.js';
import { CELL_TOOL_SOCKET_PATH, type ToolSocket } from './tool-socket.js';
import { maxResponseFrameBytes, type ToolRequest, type ToolResponse } from './tool-protocol.js';

/** Host-side grace beyond the tool server's own timeout before a call is declared lost. */
const DEFAULT_CALL_GRACE_MS = 5000;
/** How long a cell whose tool socket closed has to exit on its own before it is killed. */
const SOCKET_CLOSE_GRACE_MS = 1000;
/**
 * The host's handle on a cell: a child process (bwrap, `docker run`), or an engine API's attach
 * stream that acts as one (podman-service.ts). Its exit is the cell's end.
 */
export interface CellProcess {
  readonly pid?: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal?: NodeJS.Signals): boolean;
  on(
    event: 'exit',
    listener: (code: number | null, signal: NodeJS.Signals | null) => void,
  ): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(
    event: 'exit',
    listener: (code: number | null, signal: NodeJS.Signals | null) => void,
  ): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  removeAllListeners(event: 'exit' | 'error'): unknown;
}

const REPLACED =
  '[the next tool call starts a new cell; files in the group folder are kept, /tmp and background processes are not]';

/**
 * A cell whose tool server speaks JSON lines over a child process's stdio, or over a unix
 * socket it connected to (docker and podman: tool-socket.ts). Every runtime starts a process
 * (bwrap, docker run, ...) and hands it here; that process exiting is the cell's end, and so
 * is its tool socket closing.
 *
 * Everything on the cell's stdout is untrusted: frames are bounded (FrameReader), and a frame
 * that is not the answer to a call in flight (garbage, an endless line, a forged or repeated
 * id) means the cell broke the protocol: it is killed, its calls fail saying why, and the pool
 * replaces it. A call with no answer by its deadline kills the cell the same way, so a hung
 * tool server never holds a call, or the run waiting on it, for longer than that.
 */
export class StdioCell implements Cell {
  private nextId = 1;
  private readonly pending = new Map<number, (res: ToolResponse) => void>();
  private exited = false;
  private exitReason = '';
  /** Why the host killed this cell, when it did. */
  private killedFor: string | undefined;
  private stderrTail = '';

  private cleanedUp: Promise<void> | undefined;
  private stopping = false;
  private channelClosed = false;

  private constructor(
    readonly id: string,
    private readonly child: CellProcess,
    private readonly cleanup: () => Promise<void>,
    private readonly limits: CellLimits,
    private readonly describeFailure: (() => string | undefined) | undefined,
    private readonly callGraceMs: number,
    /** Where requests go: the child's stdin, or the tool socket. */
    private readonly requests: Writable,
    socket: net.Socket | undefined,
  ) {
    // The tool server gone from its socket is a dead cell, even if the container lingers: it
    // gets a moment to exit on its own (so its exit code and stderr explain why), then is killed.
    const closed = () => {
      this.channelClosed = true;
      if (this.stopping || this.exited) return;
      setTimeout(() => this.kill('the cell closed its tool socket'), SOCKET_CLOSE_GRACE_MS).unref();
    };
    if (socket?.destroyed) closed();
    else socket?.once('close', closed);
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.subarray(-2000).toString('utf8')).slice(-2000);
    });
    child.on('exit', (code, sig) => {
      this.exited = true;
      this.exitReason =
        this.killedFor ??
        `cell process exited (${sig ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`;
      const note = this.describeFailure?.();
      for (const [id, resolve] of this.pending) {
        resolve({
          id,
          ok: false,
          output: `the cell stopped during this call: ${this.exitReason}${note ? `\n${note}` : ''}\n${REPLACED}`,
        });
      }
      this.pending.clear();
      // A cell the host killed is cleaned up at once (a container outlives its client).
      if (this.killedFor) this.cleanedUp ??= this.cleanup();
    });
  }

  /** Wait for the tool server's ready line; reject with the runtime's stderr if it dies first. */
  static async attach(
    id: string,
    child: CellProcess,
    options: {
      cleanup: () => Promise<void>;
      limits: CellLimits;
      startTimeoutMs: number;
      signal?: AbortSignal | undefined;
      /** A note for a failed call, e.g. that the memory limit killed a process. */
      describeFailure?: () => string | undefined;
      /** How long past a call's own timeout the host waits for its answer. Default 5 s. */
      callGraceMs?: number;
      /**
       * The socket the tool server connects to instead of using its stdio; the child's stdout
       * is then drained and ignored. Closed (and its directory removed) by `cleanup`.
       */
      toolSocket?: ToolSocket | undefined;
    },
  ): Promise<StdioCell> {
    const { cleanup, limits, startTimeoutMs, signal, toolSocket } = options;
    // Answers the pool's calls may ask for are capped like the cell's default.
    const reader = new FrameReader(maxResponseFrameBytes(limits.maxOutputBytes));
    let onFrame: (text: string) => void = () => undefined;
    let onOverflow: (limitBytes: number) => void = () => undefined;
    const readFrames = (chunk: Buffer) => {
      for (const ev of reader.push(chunk)) {
        if (ev.kind === 'frame') onFrame(ev.text);
        else onOverflow(ev.limitBytes);
      }
    };
    let socket: net.Socket | undefined;
    // With a tool socket nothing may come on stdout: a byte there is a command writing into
    // the tool server's stdout, which the engine would pass on (and may log to disk).
    let onStdout: () => void = () => undefined;
    if (toolSocket) child.stdout.on('data', () => onStdout());
    else child.stdout.on('data', readFrames);
    // A write to a cell that just died fails with EPIPE here; unhandled, it would crash the host.
    child.stdin.on('error', () => {
      // Reported through 'exit'.
    });
    let stderr = '';
    const onStderr = (c: Buffer) =>
      (stderr = (stderr + c.subarray(-2000).toString('utf8')).slice(-2000));
    child.stderr.on('data', onStderr);
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string, cause?: unknown) => {
        clearTimeout(timer);
        onFrame = () => undefined;
        onOverflow = () => undefined;
        toolSocket?.abandon(why);
        socket?.destroy();
        child.kill('SIGKILL');
        reject(new RuntimeUnavailableError(`cell ${id} did not start: ${why}`, { cause }));
      };
      const timer = setTimeout(
        () =>
          fail(
            toolSocket && !socket
              ? `its tool server did not connect to ${CELL_TOOL_SOCKET_PATH} within ${startTimeoutMs} ms`
              : `no ready signal within ${startTimeoutMs} ms`,
          ),
        startTimeoutMs,
      );
      const closedEarly = () => fail('it closed its tool socket before it was ready');
      void toolSocket?.connection.then((c) => {
        if (!c.ok) return fail(c.reason);
        socket = c.socket;
        // A write to a cell that just died fails here; unhandled, it would crash the host.
        socket.on('error', () => undefined);
        socket.on('data', readFrames);
        socket.once('close', closedEarly);
      });
      if (signal?.aborted) fail('aborted');
      signal?.addEventListener('abort', () => fail('aborted'), { once: true });
      child.once('error', (err) => fail(err.message, err));
      child.once('exit', (code) =>
        fail(`exited with code ${code}${stderr ? `: ${stderr.trim()}` : ''}`),
      );
      onOverflow = (limit) => fail(`its first line ran past ${limit} bytes`);
      onStdout = () => fail('it wrote to its stdout, which carries nothing beside a tool socket');
      onFrame = (line) => {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        socket?.off('close', closedEarly);
        if (line.includes('"ready":true')) resolve();
        else fail(`unexpected first line: ${JSON.stringify(line.slice(0, 200))}`);
      };
    });
    child.stderr.off('data', onStderr);
    child.on('error', () => {
      // Reported through 'exit'; an unhandled 'error' would crash the host.
    });
    const cell = new StdioCell(
      id,
      child,
      cleanup,
      limits,
      options.describeFailure,
      options.callGraceMs ?? DEFAULT_CALL_GRACE_MS,
      socket ?? child.stdin,
      socket,
    );
    onFrame = (text) => cell.onFrame(text);
    onStdout = () =>
      cell.kill(
        'the cell broke the tool protocol (output on its stdout, which carries nothing beside its tool socket) and was stopped',
      );
    onOverflow = (limit) =>
      cell.kill(
        `the cell broke the tool protocol (a line of more than ${limit} bytes on its output) and was stopped`,
      );
    return cell;
  }

  /** False as soon as the host has decided to kill it, before its process has gone. */
  get alive(): boolean {
    return !this.exited && !this.killedFor && !this.channelClosed;
  }

  /** The host process of the cell (bwrap, `docker run`, ...). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Set by a container runtime once the engine says where the container's processes are. */
  memoryPid: number | undefined;

  call(call: CellCall): Promise<ToolResponse> {
    const id = this.nextId++;
    const request: Omit<ToolRequest, 'id'> = {
      ...call,
      timeoutMs: call.timeoutMs ?? this.limits.callTimeoutMs,
      maxOutputBytes: Math.min(
        call.maxOutputBytes ?? this.limits.maxOutputBytes,
        this.limits.maxOutputBytes,
      ),
    };
    if (this.exited || this.killedFor || this.channelClosed) {
      return Promise.resolve({
        id,
        ok: false,
        output: `the cell is not running: ${this.killedFor ?? (this.exitReason || 'it closed its tool socket')}`,
      });
    }
    return new Promise((resolve) => {
      const deadlineMs = request.timeoutMs + this.callGraceMs;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({
          id,
          ok: false,
          output: `no answer from the cell within ${deadlineMs} ms: the cell was stopped\n${REPLACED}`,
        });
        this.kill(`a call got no answer within ${deadlineMs} ms, so the cell was stopped`);
      }, deadlineMs);
      this.pending.set(id, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      this.requests.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  /** Stops the process if it still runs, then cleans up once, however often it is called. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.exited) {
      this.requests.end();
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      const timeout = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), 2000).unref(),
      );
      if ((await Promise.race([exited, timeout])) === 'timeout') this.child.kill('SIGKILL');
    }
    this.cleanedUp ??= this.cleanup();
    await this.cleanedUp;
  }

  /** Kill the cell for `reason`; its calls in flight fail with it once the process has gone. */
  private kill(reason: string): void {
    if (this.killedFor || this.exited) return;
    this.killedFor = reason;
    this.child.kill('SIGKILL');
  }

  private onFrame(text: string): void {
    if (this.killedFor) return;
    const res = parseResponse(text);
    const resolve = res ? this.pending.get(res.id) : undefined;
    if (!res || !resolve) {
      this.kill(
        `the cell broke the tool protocol (${res ? `an answer to no call in flight, id ${res.id}` : `not a response: ${JSON.stringify(text.slice(0, 80))}`}) and was stopped`,
      );
      return;
    }
    this.pending.delete(res.id);
    let output = res.output;
    const note = res.ok ? undefined : this.describeFailure?.();
    if (note) output = `${output}\n${note}`;
    resolve({ id: res.id, ok: res.ok, output });
  }
}

/** A well-formed ToolResponse, or undefined. */
function parseResponse(text: string): ToolResponse | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, ok, output } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(id) || typeof ok !== 'boolean' || typeof output !== 'string') {
    return undefined;
  }
  return { id: id as number, ok, output };
}

/**
 * Attach to a container-like cell that was just spawned: on failure remove what was started
 * and, when the runtime itself is the problem, say so instead of the bare start error.
 * Starting is the fast path (no status check first); only a failure asks for the status.
 */
export async function attachOrExplain(
  id: string,
  child: CellProcess,
  options: {
    remove: () => Promise<void>;
    limits: CellLimits;
    startTimeoutMs: number;
    signal?: AbortSignal | undefined;
    status: () => Promise<{ ok: boolean; detail: string }>;
    toolSocket?: ToolSocket | undefined;
  },
): Promise<StdioCell> {
  try {
    return await StdioCell.attach(id, child, {
      cleanup: options.remove,
      limits: options.limits,
      startTimeoutMs: options.startTimeoutMs,
      signal: options.signal,
      toolSocket: options.toolSocket,
    });
  } catch (err) {
    await options.remove();
    const st = await options.status();
    throw st.ok ? err : new RuntimeUnavailableError(st.detail, { cause: err });
  }
}
