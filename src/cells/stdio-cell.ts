import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';
import {
  RuntimeUnavailableError,
  type Cell,
  type CellCall,
  type CellLimits,
} from './cell-runtime.js';
import type { ToolRequest, ToolResponse } from './tool-protocol.js';

/** Host-side grace beyond the tool server's own timeout before a call is declared lost. */
const CALL_GRACE_MS = 5000;

/**
 * A cell whose tool server speaks JSON lines over a child process's stdio. Every runtime
 * starts a process (bwrap, docker run -i, ...) and hands it here.
 */
export class StdioCell implements Cell {
  private nextId = 1;
  private readonly pending = new Map<number, (res: ToolResponse) => void>();
  private exited = false;
  private exitReason = '';
  private stderrTail = '';

  private cleanedUp: Promise<void> | undefined;

  private constructor(
    readonly id: string,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly cleanup: () => Promise<void>,
    private readonly limits: CellLimits,
    private readonly describeFailure: (() => string | undefined) | undefined,
  ) {
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    child.on('exit', (code, sig) => {
      this.exited = true;
      this.exitReason = `cell process exited (${sig ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`;
      const note = this.describeFailure?.();
      for (const [id, resolve] of this.pending) {
        resolve({
          id,
          ok: false,
          output: `the cell stopped during this call: ${this.exitReason}${note ? `\n${note}` : ''}\n[the next tool call starts a new cell; files in the group folder are kept]`,
        });
      }
      this.pending.clear();
    });
  }

  /** Wait for the tool server's ready line; reject with the runtime's stderr if it dies first. */
  static async attach(
    id: string,
    child: ChildProcessWithoutNullStreams,
    options: {
      cleanup: () => Promise<void>;
      limits: CellLimits;
      startTimeoutMs: number;
      signal?: AbortSignal | undefined;
      /** A note for a failed call, e.g. that the memory limit killed a process. */
      describeFailure?: () => string | undefined;
    },
  ): Promise<StdioCell> {
    const { cleanup, limits, startTimeoutMs, signal } = options;
    const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    let stderr = '';
    const onStderr = (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000));
    child.stderr.on('data', onStderr);
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string, cause?: unknown) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new RuntimeUnavailableError(`cell ${id} did not start: ${why}`, { cause }));
      };
      const timer = setTimeout(
        () => fail(`no ready signal within ${startTimeoutMs} ms`),
        startTimeoutMs,
      );
      signal?.addEventListener('abort', () => fail('aborted'), { once: true });
      child.once('error', (err) => fail(err.message, err));
      child.once('exit', (code) =>
        fail(`exited with code ${code}${stderr ? `: ${stderr.trim()}` : ''}`),
      );
      lines.once('line', (line) => {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        if (line.includes('"ready":true')) resolve();
        else fail(`unexpected first line: ${line.slice(0, 200)}`);
      });
    });
    child.stderr.off('data', onStderr);
    child.on('error', () => {
      // Reported through 'exit'; an unhandled 'error' would crash the host.
    });
    const cell = new StdioCell(id, child, cleanup, limits, options.describeFailure);
    lines.on('line', (line) => cell.onLine(line));
    return cell;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** The host process of the cell (bwrap, `docker run`, ...). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  call(call: CellCall): Promise<ToolResponse> {
    const id = this.nextId++;
    const request: Omit<ToolRequest, 'id'> = {
      ...call,
      timeoutMs: call.timeoutMs ?? this.limits.callTimeoutMs,
      maxOutputBytes: call.maxOutputBytes ?? this.limits.maxOutputBytes,
    };
    if (this.exited) {
      return Promise.resolve({
        id,
        ok: false,
        output: `the cell is not running: ${this.exitReason}`,
      });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({
          id,
          ok: false,
          output: `no answer from the cell within ${request.timeoutMs + CALL_GRACE_MS} ms`,
        });
      }, request.timeoutMs + CALL_GRACE_MS);
      this.pending.set(id, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      this.child.stdin.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  /** Stops the process if it still runs, then cleans up once, however often it is called. */
  async stop(): Promise<void> {
    if (!this.exited) {
      this.child.stdin.end();
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      const timeout = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), 2000).unref(),
      );
      if ((await Promise.race([exited, timeout])) === 'timeout') this.child.kill('SIGKILL');
    }
    this.cleanedUp ??= this.cleanup();
    await this.cleanedUp;
  }

  private onLine(line: string): void {
    let res: ToolResponse;
    try {
      res = JSON.parse(line) as ToolResponse;
    } catch {
      return; // Not a response: a cell cannot inject anything by printing junk.
    }
    const resolve = this.pending.get(res.id);
    if (!resolve) return;
    this.pending.delete(res.id);
    const ok = res.ok === true;
    let output = String(res.output ?? '');
    const note = ok ? undefined : this.describeFailure?.();
    if (note) output = `${output}\n${note}`;
    resolve({ id: res.id, ok, output });
  }
}

/**
 * Attach to a container-like cell that was just spawned: on failure remove what was started
 * and, when the runtime itself is the problem, say so instead of the bare start error.
 * Starting is the fast path (no status check first); only a failure asks for the status.
 */
export async function attachOrExplain(
  id: string,
  child: ChildProcessWithoutNullStreams,
  options: {
    remove: () => Promise<void>;
    limits: CellLimits;
    startTimeoutMs: number;
    signal?: AbortSignal | undefined;
    status: () => Promise<{ ok: boolean; detail: string }>;
  },
): Promise<StdioCell> {
  try {
    return await StdioCell.attach(id, child, {
      cleanup: options.remove,
      limits: options.limits,
      startTimeoutMs: options.startTimeoutMs,
      signal: options.signal,
    });
  } catch (err) {
    await options.remove();
    const st = await options.status();
    throw st.ok ? err : new RuntimeUnavailableError(st.detail, { cause: err });
  }
}
