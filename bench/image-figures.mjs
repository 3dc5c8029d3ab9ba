import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { summarize } from './stats.mjs';

const run = promisify(execFile);
const MIB = 1024 * 1024;

/** Disk use of a tree in MiB (`du -sk`: hard links counted once, as on disk). */
async function treeMib(dir) {
  const { stdout } = await run('du', ['-sk', dir]);
  return Number(stdout.split(/\s/)[0]) / 1024;
}

/** An engine's size of an image in MiB, or undefined when the engine or the image is not there. */
async function imageMib(engine, image) {
  try {
    const { stdout } = await run(engine, ['image', 'inspect', '--format', '{{.Size}}', image], {
      timeout: 20_000,
    });
    return Number(stdout.trim()) / MIB;
  } catch {
    return undefined;
  }
}

/**
 * The cell image's size (issue 16: "still small"): the bwrap rootfs on disk, the imported
 * docker and podman images, and each group's own layer (what it adds to the base). One
 * reading each (n = 1): sizes do not vary between runs.
 */
export async function imageSizes(config) {
  const rows = [];
  const node = fs.statSync(path.join(config.cellRootfs, 'usr', 'bin', 'node')).size / MIB;
  rows.push({ label: 'node binary in the cell (the part every cell needs)', value: node });
  rows.push({
    label: 'bwrap rootfs (build/cell-rootfs, du)',
    value: await treeMib(config.cellRootfs),
    baseline: node,
  });
  for (const engine of ['docker', 'podman']) {
    const size = await imageMib(engine, config.cellImage);
    if (size !== undefined)
      rows.push({ label: `${engine} image ${config.cellImage}`, value: size, baseline: node });
  }
  for (const [group, g] of Object.entries(config.cellGroupImages)) {
    if (!g.rootfs) continue;
    // du over base and group together counts the shared hard links once: the rest is the layer.
    const { stdout } = await run('du', ['-sk', config.cellRootfs, g.rootfs]);
    const layerKib = Number(stdout.trim().split('\n')[1]?.split(/\s/)[0] ?? Number.NaN);
    rows.push({
      label: `group ${group}: its layer on top of the base (du)`,
      value: layerKib / 1024,
    });
  }
  return rows.map((r) => ({
    label: r.label,
    value: summarize([r.value]),
    baseline: r.baseline === undefined ? undefined : summarize([r.baseline]),
  }));
}
