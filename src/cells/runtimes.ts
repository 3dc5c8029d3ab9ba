import type { Config } from '../config.js';
import { BwrapRuntime } from './bwrap.js';
import type { CellRuntime } from './cell-runtime.js';
import { DockerRuntime } from './docker.js';

/** Every runtime this host knows, in auto-detection order. */
export function allRuntimes(config: Config, installId: string): CellRuntime[] {
  return [
    new BwrapRuntime({ rootfs: config.cellRootfs }),
    new DockerRuntime({ image: config.cellImage, installId }),
  ];
}
