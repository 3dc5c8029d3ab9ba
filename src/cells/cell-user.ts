import { SafeDir } from '../fs/safe-dir.js';

/**
 * Who a cell writes as. The rule, for every runtime: a file the cell writes in its group
 * folder belongs to the owner of that folder on the host, and that is never root and never a
 * uid the host user cannot manage.
 * - Host user not root: the cell runs as the host user's own uid (rootless podman through
 *   `--userns keep-id`), so the folder and its files stay the user's.
 * - Host root: every runtime runs the cell as uid 10001 (bwrap too: it is started as 10001,
 *   not mapped onto host root), and the group folder is handed to 10001 first (ensureOwner).
 *   Root manages it; a cell that escaped its sandbox would be an unprivileged user.
 */
export const ROOT_HOST_CELL_ID = 10001;

export interface CellUser {
  /** uid/gid inside the cell (never 0). */
  uid: number;
  gid: number;
  /** Who must own the group folder on the host for the cell to write it. */
  hostOwnerUid: number;
  hostOwnerGid: number;
}

/**
 * The cell user every runtime uses: the host user, or uid/gid 10001 when the host runs as
 * root (so nothing a cell does runs as, or writes as, root). The group folder is handed to it.
 */
export function defaultCellUser(): CellUser {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const id = uid === 0 ? ROOT_HOST_CELL_ID : uid;
  const g = uid === 0 ? ROOT_HOST_CELL_ID : gid;
  return { uid: id, gid: g, hostOwnerUid: id, hostOwnerGid: g };
}

/**
 * Make `folder` and everything in it owned by uid/gid, without following symlinks: the folder
 * is cell-writable, so anything in it may be a link the agent planted towards host files, and
 * may be swapped mid-walk. The walk goes through SafeDir (descriptors, lchown on links).
 * Cheap when ownership is already right (one fstat), which is the normal case.
 */
export function ensureOwner(folder: string, uid: number, gid: number): void {
  SafeDir.with(folder, (dir) => {
    const top = dir.fstat();
    if (top.uid === uid && top.gid === gid) return;
    dir.chownTree(uid, gid);
  });
}
