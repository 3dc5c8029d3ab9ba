import process from 'node:process';
/**
 * What the benchmark must undo however it ends: the host processes it spawned (by pid),
 * the containers it started (by name), its temp dirs. Run in reverse order of registration.
 */
export class Cleanup {
  constructor() {
    /** @type {Array<{ label: string, fn: () => Promise<void> | void }>} */
    this.steps = [];
  }

  /** Register an undo step; returns a function that runs it now (and only once). */
  add(label, fn) {
    const step = { label, fn };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i === -1) return;
      this.steps.splice(i, 1);
      await step.fn();
    };
  }

  /** Run every remaining step; a failing step is reported and the others still run. */
  async runAll(report = (msg) => process.stderr.write(`${msg}\n`)) {
    while (this.steps.length > 0) {
      const step = /** @type {{ label: string, fn: () => Promise<void> | void }} */ (
        this.steps.pop()
      );
      try {
        await step.fn();
      } catch (err) {
        report(
          `bench: cleanup of ${step.label} failed: ${err instanceof Error ? err.message : err}`,
        );
      }
    }
  }
}
