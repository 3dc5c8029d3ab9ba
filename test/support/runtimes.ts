import { AppleContainerRuntime } from '../../src/cells/apple-container.js';
import { BwrapRuntime } from '../../src/cells/bwrap.js';
import type { CellRuntime } from '../../src/cells/cell-runtime.js';
import { DockerSandboxesRuntime } from '../../src/cells/docker-sandboxes.js';
import { DockerRuntime } from '../../src/cells/docker.js';
import { GvisorRuntime } from '../../src/cells/gvisor.js';
import { PodmanRuntime } from '../../src/cells/podman.js';
import { loadConfig } from '../../src/config.js';
import { makeRecordingFake, type RecordingFake } from './fake-runtime-cli.js';

export type RealRuntimeName = 'bwrap' | 'docker' | 'podman' | 'gvisor';

export interface RuntimeUnderTest {
  name: RealRuntimeName;
  make: () => CellRuntime;
  /** Whether the cell's processes run under a seccomp filter the kernel reports. */
  seccomp: boolean;
  /** Whether going over the memory limit kills the whole cell (see the isolation contract). */
  memoryLimitKillsCell: boolean;
}

const TEST_INSTALL_ID = 'test';

/** The real runtimes the isolation suites run against, with the project's image and rootfs. */
export function realRuntimes(): RuntimeUnderTest[] {
  const config = loadConfig({});
  const image = config.cellImage;
  return [
    {
      name: 'bwrap',
      make: () => new BwrapRuntime({ rootfs: config.cellRootfs }),
      seccomp: true,
      memoryLimitKillsCell: false,
    },
    {
      name: 'docker',
      make: () => new DockerRuntime({ image, installId: TEST_INSTALL_ID }),
      seccomp: true,
      memoryLimitKillsCell: false,
    },
    {
      name: 'podman',
      make: () => new PodmanRuntime({ image, installId: TEST_INSTALL_ID }),
      seccomp: true,
      memoryLimitKillsCell: false,
    },
    {
      name: 'gvisor',
      make: () => new GvisorRuntime({ image, installId: TEST_INSTALL_ID }),
      // gVisor's own kernel answers the syscalls; the host filter is not visible inside.
      seccomp: false,
      memoryLimitKillsCell: true,
    },
  ];
}

/** The runtimes the end-to-end suites run the real CLI with (NANOCELL_RUNTIME values). */
export function runtimesUnderTest(): RuntimeUnderTest[] {
  return realRuntimes().filter((r) => r.name === 'bwrap' || r.name === 'docker');
}

export interface FakeRuntimeUnderTest {
  name: 'apple-container' | 'docker-sandboxes';
  make: () => CellRuntime;
  fake: RecordingFake;
}

/**
 * The runtimes that cannot run here, each driven through a recording fake of its CLI
 * written into `dir`: their protocol contract runs, their isolation is only what the
 * recorded flags ask for.
 */
export function fakeCliRuntimes(dir: string): FakeRuntimeUnderTest[] {
  const config = loadConfig({});
  const apple = makeRecordingFake(dir, 'container');
  const sandboxes = makeRecordingFake(dir, 'docker');
  return [
    {
      name: 'apple-container',
      fake: apple,
      make: () =>
        new AppleContainerRuntime({
          image: config.cellImage,
          installId: TEST_INSTALL_ID,
          containerPath: apple.bin,
        }),
    },
    {
      name: 'docker-sandboxes',
      fake: sandboxes,
      make: () =>
        new DockerSandboxesRuntime({
          image: config.cellImage,
          installId: TEST_INSTALL_ID,
          dockerPath: sandboxes.bin,
        }),
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
