import type { Cell, CellCall } from './cell-runtime.js';
import type { ToolResponse } from './tool-protocol.js';

/**
 * The runtime's cell as the pool hands it out, counting calls: how many are in flight (the
 * pool never evicts a busy cell) and whether any ran at all (a cell no call touched is as
 * clean as a new one and can serve the next run).
 */
export class PooledCell implements Cell {
  inFlight = 0;
  calls = 0;

  constructor(
    private readonly inner: Cell,
    private readonly onCallDone: () => void,
  ) {}

  get id(): string {
    return this.inner.id;
  }

  get alive(): boolean {
    return this.inner.alive;
  }

  get pid(): number | undefined {
    return this.inner.pid;
  }

  get memoryPid(): number | undefined {
    return this.inner.memoryPid;
  }

  async call(request: CellCall): Promise<ToolResponse> {
    this.inFlight++;
    this.calls++;
    try {
      return await this.inner.call(request);
    } finally {
      this.inFlight--;
      this.onCallDone();
    }
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}
