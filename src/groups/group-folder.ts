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

export function ensureGroupFolder(home: string, folder: string, assistantName: string): string {
  const dir = groupFolderPath(home, folder);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const memory = path.join(dir, MEMORY_FILE);
  if (!fs.existsSync(memory)) {
    fs.writeFileSync(
      memory,
      `# Memory\n\nNotes ${assistantName} keeps for this group. Edit freely.\n`,
      { mode: 0o644 },
    );
  }
  return dir;
}

/**
 * Read the group's memory file for the system prompt. The folder is writable by the cell, so
 * the file may have been swapped for a symlink to a host secret: open it without following
 * links, accept only a regular file, and cap its size.
 */
export function readMemory(home: string, folder: string): { text: string; note?: string } {
  const file = path.join(groupFolderPath(home, folder), MEMORY_FILE);
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
