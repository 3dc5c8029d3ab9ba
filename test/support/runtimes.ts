import { BwrapRuntime } from '../../src/cells/bwrap.js';
import type { CellRuntime } from '../../src/cells/cell-runtime.js';
import { DockerRuntime } from '../../src/cells/docker.js';
import { loadConfig } from '../../src/config.js';

export interface RuntimeUnderTest {
  name: 'bwrap' | 'docker';
  make: () => CellRuntime;
}

/** The real runtimes the suites run against, with the project's own image and rootfs. */
export function runtimesUnderTest(): RuntimeUnderTest[] {
  const config = loadConfig({});
  return [
    { name: 'bwrap', make: () => new BwrapRuntime({ rootfs: config.cellRootfs }) },
    {
      name: 'docker',
      make: () => new DockerRuntime({ image: config.cellImage, installId: 'test' }),
    },
  ];
}

/**
 * Whether a sandbox suite runs. Locally a missing runtime skips the suite; in CI (CI set)
 * it must be there, so the suite runs and fails loudly instead.
 */
export async function shouldRun(runtime: CellRuntime): Promise<boolean> {
  if (process.env.CI) return true;
  const status = await runtime.status();
  if (!status.ok) console.warn(`skipping ${runtime.name} suite: ${status.detail}`);
  return status.ok;
}
