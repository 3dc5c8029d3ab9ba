import type { Config } from '../config.js';
import { AppleContainerRuntime } from './apple-container.js';
import { BwrapRuntime } from './bwrap.js';
import type { CellRuntime } from './cell-runtime.js';
import { DockerSandboxesRuntime } from './docker-sandboxes.js';
import { DockerRuntime } from './docker.js';
import { GvisorRuntime } from './gvisor.js';
import { PodmanRuntime } from './podman.js';

/**
 * Every runtime this host knows, in auto-detection order: bwrap first (no daemon, millisecond
 * starts), then the container engines, then the VM-based runtimes of other platforms.
 */
export function allRuntimes(config: Config, installId: string): CellRuntime[] {
  const image = config.cellImage;
  return [
    new BwrapRuntime({ rootfs: config.cellRootfs, installId }),
    // The host removes the namespace holders at shutdown (app.ts), orphans at start-up.
    new DockerRuntime({ image, installId, shareNetns: true }),
    new PodmanRuntime({ image, installId, shareNetns: true, spares: true }),
    new GvisorRuntime({ image, installId }),
    new AppleContainerRuntime({ image, installId }),
    new DockerSandboxesRuntime({ image, installId }),
  ];
}
