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

  private constructor(
    readonly id: string,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly cleanup: () => Promise<void>,
    private readonly limits: CellLimits,
  ) {
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    child.on('exit', (code, sig) => {
      this.exited = true;
      this.exitReason = `cell process exited (${sig ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`;
      for (const [id, resolve] of this.pending) {
        resolve({ id, ok: false, output: `the cell stopped during this call: ${this.exitReason}` });
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
    const cell = new StdioCell(id, child, cleanup, limits);
    lines.on('line', (line) => cell.onLine(line));
    return cell;
  }

  get alive(): boolean {
    return !this.exited;
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

  async stop(): Promise<void> {
    if (!this.exited) {
      this.child.stdin.end();
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      const timeout = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), 2000).unref(),
      );
      if ((await Promise.race([exited, timeout])) === 'timeout') this.child.kill('SIGKILL');
    }
    await this.cleanup();
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
    resolve({ id: res.id, ok: res.ok === true, output: String(res.output ?? '') });
  }
}
