import {
  RuntimeUnavailableError,
  type Cell,
  type CellCall,
  type CellRuntime,
  type CellSpec,
  type RuntimeStatus,
} from '../../src/cells/cell-runtime.js';
import type { ToolResponse } from '../../src/cells/tool-protocol.js';

/** How a fake cell answers a call instead; may never settle (a hung command). */
export type FakeAnswer = (
  call: CellCall,
) => Promise<Omit<ToolResponse, 'id'>> | Omit<ToolResponse, 'id'>;

/**
 * A cell whose calls answer at once, or hang until `finishCalls` (command "hang"); with an
 * `answer`, that answers every call.
 */
export class FakeCell implements Cell {
  alive = true;
  stopped = false;
  readonly commands: string[] = [];
  private hanging: Array<() => void> = [];
  constructor(
    readonly id: string,
    readonly spec: CellSpec,
    private readonly answer?: FakeAnswer,
    private readonly calls: CellCall[] = [],
  ) {}

  async call(request: CellCall): Promise<ToolResponse> {
    this.commands.push(String(request.input.command));
    this.calls.push(request);
    if (this.answer) return { id: 1, ...(await this.answer(request)) };
    if (request.input.command !== 'hang')
      return Promise.resolve({ id: 1, ok: true, output: 'done' });
    return new Promise((resolve) =>
      this.hanging.push(() => resolve({ id: 1, ok: true, output: 'late' })),
    );
  }

  finishCalls(): void {
    for (const f of this.hanging.splice(0)) f();
  }

  /** While set, `stop` finishes only when it resolves. */
  stopGate: Promise<void> | undefined;

  async stop(): Promise<void> {
    this.alive = false;
    await this.stopGate;
    this.stopped = true;
  }
}

/** Starts FakeCells on demand; `holdStarts` keeps starts pending until `releaseStarts`. */
export class FakeCellRuntime implements CellRuntime {
  readonly name = 'fake';
  readonly started: FakeCell[] = [];
  /** Every call to any of its cells, in order. */
  readonly calls: CellCall[] = [];

  constructor(private readonly answer?: FakeAnswer) {}

  private n = 0;
  failNext = false;
  holdStarts = false;
  private held: Array<() => void> = [];
  private startWaiters: Array<{ count: number; resolve: () => void }> = [];

  /** Resolves once `count` cells have started in all. */
  whenStarted(count: number): Promise<void> {
    if (this.started.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.startWaiters.push({ count, resolve }));
  }

  async status(): Promise<RuntimeStatus> {
    return { ok: true, detail: 'fake' };
  }

  /** Starts given up through their signal while held. */
  aborted = 0;

  async start(spec: CellSpec, signal?: AbortSignal): Promise<Cell> {
    if (this.failNext) {
      this.failNext = false;
      throw new RuntimeUnavailableError('fake runtime down');
    }
    if (this.holdStarts) {
      await new Promise<void>((resolve, reject) => {
        this.held.push(resolve);
        signal?.addEventListener('abort', () => {
          this.aborted++;
          reject(new RuntimeUnavailableError('start aborted'));
        });
      });
    }
    const cell = new FakeCell(`${spec.groupName}-${++this.n}`, spec, this.answer, this.calls);
    this.started.push(cell);
    for (const w of this.startWaiters.filter((x) => this.started.length >= x.count)) {
      this.startWaiters.splice(this.startWaiters.indexOf(w), 1);
      w.resolve();
    }
    return cell;
  }

  releaseStarts(): void {
    this.holdStarts = false;
    for (const r of this.held.splice(0)) r();
  }

  cellOf(group: string): FakeCell[] {
    return this.started.filter((c) => c.id.startsWith(`${group}-`));
  }
}
