import fs from 'node:fs';
import path from 'node:path';

/** The uid/gid a cell's processes run as when the host itself runs as root. */
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
 * Make `folder` and everything in it owned by uid/gid, without following symlinks: the folder
 * is cell-writable, so anything in it may be a link the agent planted towards host files.
 * Cheap when ownership is already right (one stat), which is the normal case.
 */
export function ensureOwner(folder: string, uid: number, gid: number): void {
  const top = fs.lstatSync(folder);
  if (top.isSymbolicLink()) throw new Error(`refusing to use ${folder}: it is a symbolic link`);
  if (top.uid === uid && top.gid === gid) return;
  const walk = (p: string) => {
    fs.lchownSync(p, uid, gid);
    const st = fs.lstatSync(p);
    if (!st.isDirectory()) return;
    for (const name of fs.readdirSync(p)) walk(path.join(p, name));
  };
  walk(folder);
}
