import type { RuntimeChoice } from '../config.js';
import { RuntimeUnavailableError, type CellRuntime, type RuntimeStatus } from './cell-runtime.js';

export interface RuntimeReport {
  runtime: CellRuntime;
  status: RuntimeStatus;
}

/** Every runtime this host knows, in auto-detection order, with its status. */
export async function surveyRuntimes(runtimes: CellRuntime[]): Promise<RuntimeReport[]> {
  return Promise.all(
    runtimes.map(async (runtime) => ({ runtime, status: await runtime.status() })),
  );
}

/**
 * The runtime to use: the one named in config, or with `auto` the first that works, in
 * order (bwrap first: no daemon and millisecond starts; the later ones are not even asked
 * once one works). Rejects, saying how to fix each, when none can be used.
 */
export async function selectRuntime(
  choice: RuntimeChoice,
  runtimes: CellRuntime[],
): Promise<CellRuntime> {
  const candidates = choice === 'auto' ? runtimes : runtimes.filter((r) => r.name === choice);
  const reports: RuntimeReport[] = [];
  for (const runtime of candidates) {
    const status = await runtime.status();
    if (status.ok) return runtime;
    reports.push({ runtime, status });
  }
  const lines = reports.map((r) => `  ${r.runtime.name}: ${r.status.detail}`).join('\n');
  throw new RuntimeUnavailableError(
    choice === 'auto'
      ? `no cell runtime is usable:\n${lines}\nRun scripts/setup.sh to install and build them.`
      : `the ${choice} runtime (NANOCELL_RUNTIME=${choice}) is not usable:\n${lines || `  no runtime named ${choice}`}`,
  );
}
