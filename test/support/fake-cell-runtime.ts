import type {
  Cell,
  CellCall,
  CellRuntime,
  CellSpec,
  RuntimeStatus,
} from '../../src/cells/cell-runtime.js';
import type { ToolResponse } from '../../src/cells/tool-protocol.js';

/** How a FakeCellRuntime's cells answer a call; may never settle (a hung command). */
export type FakeAnswer = (
  call: CellCall,
) => Promise<Omit<ToolResponse, 'id'>> | Omit<ToolResponse, 'id'>;

/**
 * A CellRuntime with no isolation at all, for component tests of the host side: it records
 * every cell it starts and every call, and answers with `answer`.
 */
export class FakeCellRuntime implements CellRuntime {
  readonly name = 'fake';
  readonly started: CellSpec[] = [];
  readonly calls: CellCall[] = [];
  readonly stopped: string[] = [];

  constructor(private readonly answer: FakeAnswer = () => ({ ok: true, output: 'done' })) {}

  status(): Promise<RuntimeStatus> {
    return Promise.resolve({ ok: true, detail: 'fake runtime (no isolation)' });
  }

  start(spec: CellSpec): Promise<Cell> {
    this.started.push(spec);
    const id = `fake-${this.started.length}`;
    let alive = true;
    let nextId = 1;
    const cell: Cell = {
      id,
      get alive() {
        return alive;
      },
      call: async (call) => {
        this.calls.push(call);
        return { id: nextId++, ...(await this.answer(call)) };
      },
      stop: () => {
        alive = false;
        this.stopped.push(id);
        return Promise.resolve();
      },
    };
    return Promise.resolve(cell);
  }
}
