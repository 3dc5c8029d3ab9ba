import fs from 'node:fs';
import path from 'node:path';
import { GROUP_NAME_PATTERN } from '../store/groups.js';

export const MEMORY_FILE = 'MEMORY.md';
const MAX_MEMORY_BYTES = 64 * 1024;

/** NANOCELL_HOME/groups/<folder>: the only host directory a group's cell may write. */
export function groupFolderPath(home: string, folder: string): string {
  if (!GROUP_NAME_PATTERN.test(folder)) throw new Error(`invalid group folder name: ${folder}`);
  return path.join(home, 'groups', folder);
}

/** A folder cells pass through or mount: explicit modes, whatever the process umask. */
function ensureDir(dir: string, mode: number): void {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
}

export function ensureGroupFolder(home: string, folder: string, assistantName: string): string {
  const dir = groupFolderPath(home, folder);
  ensureDir(path.dirname(dir), 0o711);
  if (!fs.existsSync(dir)) ensureDir(dir, 0o755);
  const memory = path.join(dir, MEMORY_FILE);
  if (!fs.existsSync(memory)) {
    fs.writeFileSync(
      memory,
      `# Memory\n\nNotes ${assistantName} keeps for this group. Edit freely.\n`,
      { mode: 0o644 },
    );
    fs.chmodSync(memory, 0o644);
  }
  return dir;
}

/**
 * Read the group's memory file for the system prompt. The folder is writable by the cell, so
 * the file may have been swapped for a symlink to a host secret: open it without following
 * links, accept only a regular file, and cap its size.
 */
export function readMemory(home: string, folder: string): { text: string; note?: string } {
  return readSafely(path.join(groupFolderPath(home, folder), MEMORY_FILE));
}

/** NANOCELL_HOME/global: memory shared by all groups; only the admin group's cell may write it. */
export function globalFolderPath(home: string): string {
  return path.join(home, 'global');
}

export function ensureGlobalFolder(home: string): string {
  const dir = globalFolderPath(home);
  ensureDir(dir, 0o755);
  const memory = path.join(dir, MEMORY_FILE);
  if (!fs.existsSync(memory)) {
    fs.writeFileSync(
      memory,
      '# Global memory\n\nShared with every group; only the admin group can change it.\n',
    );
    fs.chmodSync(memory, 0o644);
  }
  return dir;
}

export function readGlobalMemory(home: string): { text: string; note?: string } {
  return readSafely(path.join(globalFolderPath(home), MEMORY_FILE));
}

function readSafely(file: string): { text: string; note?: string } {
  let fd: number;
  try {
    fd = fs.openSync(
      file,
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { text: '' };
    if (code === 'ELOOP') return { text: '', note: `${MEMORY_FILE} is a symbolic link; ignored` };
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { text: '', note: `${MEMORY_FILE} is not a regular file; ignored` };
    const buf = Buffer.alloc(Math.min(st.size, MAX_MEMORY_BYTES));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    return st.size > MAX_MEMORY_BYTES
      ? {
          text,
          note: `${MEMORY_FILE} is larger than ${MAX_MEMORY_BYTES} bytes; only the start is shown`,
        }
      : { text };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Write an archive file into the group's `archive/` folder. The folder is cell-writable, so
 * neither the folder nor the file may be a planted symlink: the folder is checked with lstat
 * and the file is created exclusively without following links.
 */
export function writeArchive(home: string, folder: string, name: string, content: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ArchiveError(`invalid archive name: ${name}`);
  const dir = path.join(groupFolderPath(home, folder), 'archive');
  try {
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Open the folder itself without following a link, then create the file through that
  // descriptor (/proc/self/fd/N is the opened folder, not a path looked up again): a cell
  // swapping `archive` for a symlink cannot redirect the write, even mid-way.
  let dirFd: number;
  try {
    dirFd = fs.openSync(
      dir,
      fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW,
    );
  } catch (err) {
    throw new ArchiveError(`${dir} is not a plain folder (a symlink?); nothing archived`, {
      cause: err,
    });
  }
  try {
    const fd = fs.openSync(
      `/proc/self/fd/${dirFd}/${name}`,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o644,
    );
    try {
      fs.fchmodSync(fd, 0o644);
      fs.writeSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.closeSync(dirFd);
  }
  return path.join(dir, name);
}

export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}
