import fs from 'node:fs';
import path from 'node:path';
import { SafeDir, UnsafeFolderError } from './safe-dir.js';

/** A folder the cell sees at `cellPath`, which is `hostPath` on the host. */
export interface PathMount {
  hostPath: string;
  cellPath: string;
}

export type ResolvedCellPath =
  | {
      ok: true;
      /** The path the cell's kernel would reach, as a cell path (links inside mounts followed). */
      cellPath: string;
      /** Whether it lies in a mount the host could check; false for the cell's own /tmp etc. */
      inMount: boolean;
    }
  | { ok: false; reason: string };

const MAX_LINKS = 40;

/**
 * Where `cellPath` (absolute, normalised) really leads, read on the host through the grant's
 * mounts: each component is looked at with lstat relative to an opened folder (SafeDir), and a
 * symbolic link is followed only while its target stays inside the mount it is in. A link
 * that leaves its mount is refused with a reason, not followed: the host never opens anything
 * outside the folder to answer. Missing components end the walk (a file about to be
 * created); paths outside every mount are returned as they are (the cell's own filesystem,
 * which the host cannot see).
 */
export function resolveCellPath(cellPath: string, mounts: readonly PathMount[]): ResolvedCellPath {
  let target = path.posix.resolve('/', cellPath);
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    const mount = mountOf(target, mounts);
    if (!mount) return { ok: true, cellPath: target, inMount: false };
    const step = walkMount(target, mount);
    if (step.kind === 'done') return { ok: true, cellPath: target, inMount: true };
    if (step.kind === 'refused') return { ok: false, reason: step.reason };
    const next = step.next;
    if (mountOf(next, mounts) !== mount) {
      return {
        ok: false,
        reason: `${step.link} is a symbolic link that leaves ${mount.cellPath} (to ${next})`,
      };
    }
    target = next;
  }
  return { ok: false, reason: `${cellPath} goes through more than ${MAX_LINKS} symbolic links` };
}

function mountOf(target: string, mounts: readonly PathMount[]): PathMount | undefined {
  let best: PathMount | undefined;
  for (const m of mounts) {
    const inside = target === m.cellPath || target.startsWith(`${m.cellPath}/`);
    if (inside && (!best || m.cellPath.length > best.cellPath.length)) best = m;
  }
  return best;
}

type Step =
  | { kind: 'done' }
  | { kind: 'refused'; reason: string }
  | { kind: 'link'; link: string; next: string };

/** Walk `target` inside `mount` until the end, a missing name, or the first link. */
function walkMount(target: string, mount: PathMount): Step {
  const rest = path.posix.relative(mount.cellPath, target).split('/').filter(Boolean);
  let dir: SafeDir;
  try {
    dir = SafeDir.open(mount.hostPath);
  } catch (err) {
    if (err instanceof UnsafeFolderError) {
      return { kind: 'refused', reason: `${mount.cellPath} cannot be checked on the host` };
    }
    throw err;
  }
  try {
    for (let i = 0; i < rest.length; i++) {
      const name = rest[i]!;
      const here = path.posix.join(mount.cellPath, ...rest.slice(0, i));
      const st = fs.lstatSync(dir.at(name), { throwIfNoEntry: false });
      if (!st) return { kind: 'done' };
      if (st.isSymbolicLink()) {
        const to = fs.readlinkSync(dir.at(name));
        const next = path.posix.resolve(here, to, ...rest.slice(i + 1));
        return { kind: 'link', link: path.posix.join(here, name), next };
      }
      if (!st.isDirectory()) return { kind: 'done' };
      const sub = dir.openDir(name);
      // Swapped under us: judge what is there now on the next pass.
      if (!sub.ok)
        return { kind: 'refused', reason: `${path.posix.join(here, name)}: ${sub.reason}` };
      dir.close();
      dir = sub.dir;
    }
    return { kind: 'done' };
  } finally {
    dir.close();
  }
}
