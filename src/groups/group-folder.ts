import fs from 'node:fs';
import path from 'node:path';
import { ROOT_HOST_CELL_ID } from '../cells/cell-user.js';
import { SafeDir, UnsafeFolderError } from '../fs/safe-dir.js';
import { GROUP_NAME_PATTERN } from '../store/groups.js';

export const MEMORY_FILE = 'MEMORY.md';
/** In the global folder: what the owner tells every group about themself. */
export const USER_FILE = 'USER.md';
const MAX_MEMORY_BYTES = 64 * 1024;

/** NANOCELL_HOME/groups/<folder>: the only host directory a group's cell may write. */
export function groupFolderPath(home: string, folder: string): string {
  if (!GROUP_NAME_PATTERN.test(folder)) throw new Error(`invalid group folder name: ${folder}`);
  return path.join(home, 'groups', folder);
}

/** Modes of what a cell can write: private to the host owner and the cell, never others'. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Who owns the folders cells mount (the cell user; see src/cells/cell-user.ts). */
export interface FolderOwner {
  uid: number;
  gid: number;
}

/**
 * NANOCELL_HOME/groups: the host's own. The cell user must pass through it (bwrap opens its
 * mounts as that user), nobody else: on a root host it is root:10001 0710, otherwise the host
 * user's 0700 (the host user is the cell user). So even a group folder a cell loosened to 0777
 * during a run is out of other host users' reach.
 */
function ensureGroupsParent(home: string): string {
  const parent = path.join(home, 'groups');
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) {
    fs.chownSync(parent, 0, ROOT_HOST_CELL_ID);
    fs.chmodSync(parent, 0o710);
  } else {
    fs.chmodSync(parent, 0o700);
  }
  return parent;
}

/** Make `dir` (its parent is the host's own, so a plain mkdir is safe) and open it. */
function openMadeFolder(dir: string): SafeDir {
  try {
    fs.mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const opened = SafeDir.open(dir);
  opened.chmod(PRIVATE_DIR_MODE);
  return opened;
}

/**
 * The group's folder and its MEMORY.md, private (0700/0600). Every step inside the folder goes
 * through SafeDir: the cell may have planted a link at MEMORY.md (even one racing to appear and
 * vanish), and the template is then simply not written.
 */
export function ensureGroupFolder(home: string, folder: string, assistantName: string): string {
  const dir = groupFolderPath(home, folder);
  ensureGroupsParent(home);
  const opened = openMadeFolder(dir);
  try {
    opened.createFile(
      MEMORY_FILE,
      `# Memory\n\nNotes ${assistantName} keeps for this group. Edit freely.\n`,
      PRIVATE_FILE_MODE,
    );
  } finally {
    opened.close();
  }
  return dir;
}

/**
 * Read the group's memory file for the system prompt. The folder is writable by the cell, so
 * the file may have been swapped for a symlink to a host secret: it is opened without following
 * links, only a regular file is accepted, and its size is capped.
 */
export function readMemory(home: string, folder: string): { text: string; note?: string } {
  return readSafely(groupFolderPath(home, folder));
}

/** NANOCELL_HOME/global: memory shared by all groups; only the admin group's cell may write it. */
export function globalFolderPath(home: string): string {
  return path.join(home, 'global');
}

/**
 * The global folder: every cell mounts it (read-only but for the admin cell), so it belongs to
 * the cell user, and is 0700 so that no other host user can read it.
 */
export function ensureGlobalFolder(home: string, owner?: FolderOwner): string {
  const dir = globalFolderPath(home);
  const opened = openMadeFolder(dir);
  try {
    opened.createFile(
      MEMORY_FILE,
      '# Global memory\n\nShared with every group; only the admin group can change it.\n',
      PRIVATE_FILE_MODE,
    );
    if (owner) {
      const st = opened.fstat();
      if (st.uid !== owner.uid || st.gid !== owner.gid) opened.chownTree(owner.uid, owner.gid);
    }
  } finally {
    opened.close();
  }
  return dir;
}

export function readGlobalMemory(home: string): { text: string; note?: string } {
  return readSafely(globalFolderPath(home));
}

/** The owner's USER.md in the global folder (absent: empty), read like a memory file. */
export function readOwnerProfile(home: string): { text: string; note?: string } {
  return readSafely(globalFolderPath(home), USER_FILE);
}

function readSafely(dir: string, file = MEMORY_FILE): { text: string; note?: string } {
  let opened: SafeDir;
  try {
    opened = SafeDir.open(dir);
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    if (err instanceof UnsafeFolderError && cause?.code === 'ENOENT') return { text: '' };
    throw err;
  }
  try {
    const r = opened.readFile(file, MAX_MEMORY_BYTES);
    if (!r.ok) {
      if (r.code === 'ENOENT') return { text: '' };
      return { text: '', note: `${r.reason}; ignored` };
    }
    const text = r.bytes.toString('utf8');
    return r.truncated
      ? {
          text,
          note: `${file} is larger than ${MAX_MEMORY_BYTES} bytes; only the start is shown`,
        }
      : { text };
  } finally {
    opened.close();
  }
}

/**
 * Write an archive file into the group's `archive/` folder (0700, files 0600). The folder is
 * cell-writable, so neither `archive` nor the file may be a planted link: both are opened
 * through SafeDir, and the file is created exclusively.
 */
export function writeArchive(home: string, folder: string, name: string, content: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) {
    throw new ArchiveError(`invalid archive name: ${name}`);
  }
  const dir = path.join(groupFolderPath(home, folder), 'archive');
  SafeDir.with(groupFolderPath(home, folder), (group) => {
    const archive = group.ensureDir('archive', PRIVATE_DIR_MODE);
    if (!archive.ok) throw new ArchiveError(`${dir}: ${archive.reason}; nothing archived`);
    try {
      archive.dir.chmod(PRIVATE_DIR_MODE);
      const made = archive.dir.createFile(name, content, PRIVATE_FILE_MODE);
      if (!made.ok) throw new ArchiveError(`${dir}/${name}: ${made.reason}; nothing archived`);
      if (!made.created) {
        throw new ArchiveError(`${dir}/${name} already exists; nothing archived`);
      }
    } finally {
      archive.dir.close();
    }
  });
  return path.join(dir, name);
}

export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}
