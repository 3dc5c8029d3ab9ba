import crypto from 'node:crypto';
import { SafeDir } from '../fs/safe-dir.js';

/** What is kept of one entry of a group folder: enough to tell a change and show a diff. */
export interface EntryState {
  kind: 'file' | 'link' | 'other';
  size: number;
  /** sha256 of the content read (the first `maxHashBytes`; `size` tells a longer file apart). */
  hash: string;
  /** The content, when it is small UTF-8 text; else null (binary, too big, or over budget). */
  text: string | null;
}

export interface FolderSnapshot {
  /** By path inside the folder, `a/b.txt`. */
  entries: Map<string, EntryState>;
  /** True when a limit stopped the walk: entries past it are not compared. */
  truncated: boolean;
}

export interface SnapshotLimits {
  maxEntries: number;
  maxDepth: number;
  /** Bytes of one file read to hash it. */
  maxHashBytes: number;
  /** Bytes read in all, for hashing: past it, files are compared by size only. */
  maxTotalReadBytes: number;
  /** A file up to this size is kept as text for a diff. */
  maxTextBytes: number;
  /** Text kept in all. */
  maxTotalTextBytes: number;
}

export const SNAPSHOT_LIMITS: SnapshotLimits = {
  maxEntries: 2000,
  maxDepth: 12,
  maxHashBytes: 4 * 1024 * 1024,
  maxTotalReadBytes: 64 * 1024 * 1024,
  maxTextBytes: 64 * 1024,
  maxTotalTextBytes: 4 * 1024 * 1024,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text, or null when they are not UTF-8 text (a NUL byte, invalid UTF-8). */
export function asText(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null; // Not UTF-8: binary.
  }
}

/**
 * The state of a folder a cell writes (a group folder), bounded in entries, depth and bytes
 * read. Walked through SafeDir only: a link the agent planted is recorded as a link and never
 * followed; a folder swapped for a link mid-walk is refused, not entered.
 */
export function snapshotFolder(
  absPath: string,
  limits: SnapshotLimits = SNAPSHOT_LIMITS,
): FolderSnapshot {
  const entries = new Map<string, EntryState>();
  const budget = { read: limits.maxTotalReadBytes, text: limits.maxTotalTextBytes };
  let truncated = false;
  const walk = (dir: SafeDir, prefix: string, depth: number) => {
    const names = dir.list().sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of names) {
      if (entries.size >= limits.maxEntries) {
        truncated = true;
        return;
      }
      const rel = `${prefix}${entry.name}`;
      if (entry.isDirectory()) {
        if (depth >= limits.maxDepth) {
          truncated = true;
          continue;
        }
        const sub = dir.openDir(entry.name);
        if (!sub.ok) continue; // Swapped for something else meanwhile: not walked.
        try {
          walk(sub.dir, `${rel}/`, depth + 1);
        } finally {
          sub.dir.close();
        }
      } else if (entry.isFile()) {
        const want = Math.min(limits.maxHashBytes, budget.read);
        const read = readOrRefuse(dir, entry.name, want);
        if (!read.ok) {
          entries.set(rel, { kind: 'other', size: 0, hash: '', text: null });
          continue;
        }
        budget.read -= read.bytes.length;
        if (want < limits.maxHashBytes && read.truncated) truncated = true;
        const small = !read.truncated && read.size <= limits.maxTextBytes;
        const text = small && read.size <= budget.text ? asText(read.bytes) : null;
        if (text !== null) budget.text -= read.size;
        const hash = crypto.createHash('sha256').update(read.bytes).digest('hex');
        entries.set(rel, { kind: 'file', size: read.size, hash, text });
      } else {
        const kind = entry.isSymbolicLink() ? 'link' : 'other';
        entries.set(rel, { kind, size: 0, hash: '', text: null });
      }
    }
  };
  SafeDir.with(absPath, (root) => walk(root, '', 0));
  return { entries, truncated };
}

/** A file the host may not read (a cell made it 0600 under another uid) is not compared. */
export function readOrRefuse(
  dir: SafeDir,
  name: string,
  maxBytes: number,
): ReturnType<SafeDir['readFile']> {
  try {
    return dir.readFile(name, maxBytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    return { ok: false, reason: `${name} cannot be read by the host (${code})`, code };
  }
}
