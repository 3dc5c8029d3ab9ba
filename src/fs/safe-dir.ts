import crypto from 'node:crypto';
import fs from 'node:fs';

/**
 * Host-side access to a folder a cell can write (a group folder, the global folder).
 *
 * Anything in such a folder may be a link the agent planted towards a host file, and may be
 * swapped while the host works on it. So nothing here looks a path up twice: the folder is
 * opened once (O_DIRECTORY | O_NOFOLLOW), and every step below it is opened relative to the
 * fd of its parent through `/proc/self/fd/N/NAME` (Node has no openat; the kernel follows the
 * /proc magic link to the very directory the fd holds, and O_NOFOLLOW applies to NAME). Files
 * are created with O_EXCL, replaced by an exclusive temporary file renamed over the old name
 * (rename never follows a link), and checked with fstat: only regular files and folders on the
 * same filesystem as the folder are accepted. Linux only (/proc).
 */

const C = fs.constants;
const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;
// O_NONBLOCK: a planted FIFO must not stall the host on open; O_NOCTTY: nor a terminal.
const READ_FLAGS = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY;
const CREATE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NOCTTY;

/** An expected refusal: a planted link, something that is not a file, a name that escapes. */
export interface FsRefusal {
  ok: false;
  /** Plain words naming the path inside the folder and what is wrong with it. */
  reason: string;
  code?: string;
}

export type FsResult<T> = ({ ok: true } & T) | FsRefusal;

/** The folder itself (the root the host made) could not be opened as a plain folder. */
export class UnsafeFolderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnsafeFolderError';
  }
}

/**
 * The components of `rel`, a path inside the folder. Only plain names: no absolute path, no
 * `.` or `..`, no empty component, so no step can leave the folder by name.
 */
export function splitInside(rel: string): string[] | undefined {
  if (rel === '' || rel.startsWith('/') || rel.includes('\0')) return undefined;
  const parts = rel.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) return undefined;
  return parts;
}

function refuse(reason: string, err?: unknown): FsRefusal {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ? { ok: false, reason, code } : { ok: false, reason };
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** Why opening `name` failed, in words an owner can act on. */
function describeOpenError(name: string, err: unknown, wanted: 'folder' | 'file'): FsRefusal {
  switch (errno(err)) {
    case 'ENOENT':
      return refuse(`${name} does not exist`, err);
    case 'ELOOP':
      return refuse(`${name} is a symbolic link; links in a cell's folder are never followed`, err);
    case 'ENOTDIR':
      return refuse(`${name} is not a plain ${wanted} (a symbolic link, or a file?)`, err);
    case 'EISDIR':
      return refuse(`${name} is a folder, not a file`, err);
    case 'ENXIO':
      return refuse(`${name} is a socket or a device, not a ${wanted}`, err);
    default:
      throw err;
  }
}

/** An open folder; every operation is relative to its descriptor. Close it when done. */
export class SafeDir {
  private closed = false;

  private constructor(
    readonly fd: number,
    /** For messages only: never opened again by name. */
    readonly label: string,
    private readonly dev: number,
  ) {}

  /**
   * Open the folder at `absPath` without following a link in its last component. The path
   * above it is the host's own (NANOCELL_HOME/groups, ...), which no cell can change. Throws
   * UnsafeFolderError when it is not a plain folder: that is a broken install, not a cell.
   */
  static open(absPath: string): SafeDir {
    let fd: number;
    try {
      fd = fs.openSync(absPath, DIR_FLAGS);
    } catch (err) {
      throw new UnsafeFolderError(
        `${absPath} cannot be opened as a plain folder (${errno(err) ?? 'error'}); it must be a real folder, not a symbolic link`,
        { cause: err },
      );
    }
    return new SafeDir(fd, absPath, fs.fstatSync(fd).dev);
  }

  /** Open, run `fn`, close. */
  static with<T>(absPath: string, fn: (dir: SafeDir) => T): T {
    const dir = SafeDir.open(absPath);
    try {
      return fn(dir);
    } finally {
      dir.close();
    }
  }

  /** `name` as a path the kernel resolves through this folder's descriptor. */
  at(name: string): string {
    if (this.closed) throw new Error(`SafeDir ${this.label} used after close`);
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }

  fstat(): fs.Stats {
    return fs.fstatSync(this.fd);
  }

  /**
   * What the host creates in a folder belongs to the folder's owner (the cell user, once the
   * folder is handed over), so the cell can read and edit it. Only root can give files away;
   * any other host user is the cell user already.
   */
  private giveToFolderOwner(fd: number): void {
    if (process.getuid?.() !== 0) return;
    const st = this.fstat();
    fs.fchownSync(fd, st.uid, st.gid);
  }

  /** Set this folder's mode through its descriptor. */
  chmod(mode: number): void {
    fs.fchmodSync(this.fd, mode);
  }

  chown(uid: number, gid: number): void {
    fs.fchownSync(this.fd, uid, gid);
  }

  /** Open the folder at `rel` inside this one, walking one component at a time. */
  openDir(rel: string): FsResult<{ dir: SafeDir }> {
    return this.walk(rel, undefined);
  }

  /**
   * Open the folder at `rel`, creating each missing component with `mode` (set exactly,
   * whatever the umask). A component that is a link or a file is refused, not replaced.
   */
  ensureDir(rel: string, mode: number): FsResult<{ dir: SafeDir; created: boolean }> {
    return this.walk(rel, mode);
  }

  private walk(rel: string, createMode: number | undefined) {
    const parts = splitInside(rel);
    if (!parts) return refuse(`${JSON.stringify(rel)} is not a plain path inside the folder`);
    let current: SafeDir | undefined;
    let created = false;
    for (const part of parts) {
      const step = (current ?? this).child(part, createMode);
      current?.close();
      if (!step.ok) return step;
      current = step.dir;
      created = step.created;
    }
    return { ok: true as const, dir: current!, created };
  }

  private child(name: string, createMode: number | undefined) {
    let created = false;
    if (createMode !== undefined) {
      try {
        // mkdir never follows a link in its last component: a planted link is EEXIST, and
        // the open below refuses it.
        fs.mkdirSync(this.at(name), createMode);
        created = true;
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
      }
    }
    let fd: number;
    try {
      fd = fs.openSync(this.at(name), DIR_FLAGS);
    } catch (err) {
      return describeOpenError(name, err, 'folder');
    }
    const dir = new SafeDir(fd, `${this.label}/${name}`, this.dev);
    const st = dir.fstat();
    if (st.dev !== this.dev) {
      dir.close();
      return refuse(`${name} is on another filesystem; nothing is followed out of the folder`);
    }
    if (created && createMode !== undefined) {
      dir.chmod(createMode);
      this.giveToFolderOwner(dir.fd);
    }
    return { ok: true as const, dir, created };
  }

  /** Split `rel` into its folder (opened) and its last name. */
  private parentOf(rel: string): FsResult<{ dir: SafeDir; name: string; owned: boolean }> {
    const parts = splitInside(rel);
    if (!parts) return refuse(`${JSON.stringify(rel)} is not a plain path inside the folder`);
    const name = parts.pop()!;
    if (parts.length === 0) return { ok: true, dir: this, name, owned: false };
    const opened = this.openDir(parts.join('/'));
    return opened.ok ? { ok: true, dir: opened.dir, name, owned: true } : opened;
  }

  private inParent<T>(rel: string, fn: (dir: SafeDir, name: string) => FsResult<T>): FsResult<T> {
    const p = this.parentOf(rel);
    if (!p.ok) return p;
    try {
      return fn(p.dir, p.name);
    } finally {
      if (p.owned) p.dir.close();
    }
  }

  /**
   * Read the regular file at `rel`, at most `maxBytes` of it. A link, a FIFO, a device or a
   * folder is refused; `truncated` says the file was longer.
   */
  readFile(
    rel: string,
    maxBytes: number,
  ): FsResult<{ bytes: Buffer; size: number; truncated: boolean }> {
    return this.inParent(rel, (dir, name) => {
      let fd: number;
      try {
        fd = fs.openSync(dir.at(name), READ_FLAGS);
      } catch (err) {
        return describeOpenError(name, err, 'file');
      }
      try {
        const st = fs.fstatSync(fd);
        const bad = dir.checkFile(name, st);
        if (bad) return bad;
        const buf = Buffer.alloc(Math.min(st.size, maxBytes));
        let n = 0;
        while (n < buf.length) {
          const got = fs.readSync(fd, buf, n, buf.length - n, n);
          if (got === 0) break;
          n += got;
        }
        return { ok: true, bytes: buf.subarray(0, n), size: st.size, truncated: st.size > n };
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  /**
   * Create `rel` with `data` only if nothing is there (O_EXCL: a planted link, even a dangling
   * one, counts as something and is left alone). `created: false` when it already existed.
   */
  createFile(rel: string, data: string | Buffer, mode: number): FsResult<{ created: boolean }> {
    return this.inParent(rel, (dir, name) => {
      let fd: number;
      try {
        fd = fs.openSync(dir.at(name), CREATE_FLAGS, mode);
      } catch (err) {
        if (errno(err) === 'EEXIST') return { ok: true, created: false };
        return describeOpenError(name, err, 'file');
      }
      try {
        fs.fchmodSync(fd, mode);
        dir.giveToFolderOwner(fd);
        writeAll(fd, data);
      } catch (err) {
        const code = errno(err);
        if (code !== 'ENOSPC' && code !== 'EDQUOT') throw err;
        // A full folder (its quota) or disk: leave no half-written file; unlink never follows.
        fs.rmSync(dir.at(name), { force: true });
        return refuse(`no space left to write ${name} (the folder or the disk is full)`, err);
      } finally {
        fs.closeSync(fd);
      }
      return { ok: true, created: true };
    });
  }

  /**
   * Replace `rel` with `data`: written to a new exclusive file beside it, then renamed over
   * the name. Whatever was at the name (a link included) is replaced, never written through.
   */
  replaceFile(rel: string, data: string | Buffer, mode: number): FsResult<object> {
    return this.inParent(rel, (dir, name) => {
      const tmp = `.${name}.nanocell-${crypto.randomBytes(6).toString('hex')}`;
      const made = dir.createFile(tmp, data, mode);
      if (!made.ok) return made;
      if (!made.created) return refuse(`${tmp} appeared while writing ${name}; nothing written`);
      try {
        fs.renameSync(dir.at(tmp), dir.at(name));
      } catch (err) {
        fs.rmSync(dir.at(tmp), { force: true });
        if (errno(err) === 'EISDIR' || errno(err) === 'ENOTEMPTY') {
          return refuse(`${name} is a folder, not a file`, err);
        }
        throw err;
      }
      return { ok: true };
    });
  }

  /** Set the mode of the regular file or folder at `rel` through a descriptor of it. */
  chmodAt(rel: string, mode: number): FsResult<object> {
    return this.onEntry(rel, (fd) => fs.fchmodSync(fd, mode));
  }

  private onEntry(rel: string, fn: (fd: number) => void): FsResult<object> {
    return this.inParent(rel, (dir, name) => {
      let fd: number;
      try {
        fd = fs.openSync(dir.at(name), READ_FLAGS);
      } catch (err) {
        return describeOpenError(name, err, 'file');
      }
      try {
        const st = fs.fstatSync(fd);
        if (!st.isDirectory()) {
          const bad = dir.checkFile(name, st);
          if (bad) return bad;
        } else if (st.dev !== dir.dev) {
          return refuse(`${name} is on another filesystem`);
        }
        fn(fd);
        return { ok: true };
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  /** Names in this folder (its entries, read through the descriptor). */
  list(): fs.Dirent[] {
    return fs.readdirSync(this.at(''), { withFileTypes: true });
  }

  /**
   * Give this folder and everything in it to uid/gid. Links are changed themselves (lchown),
   * never followed; folders are entered through descriptors, so an entry swapped for a link
   * mid-walk is changed as a link, not walked into.
   */
  chownTree(uid: number, gid: number): void {
    this.chown(uid, gid);
    for (const entry of this.list()) {
      try {
        fs.lchownSync(this.at(entry.name), uid, gid);
      } catch (err) {
        if (errno(err) === 'ENOENT') continue;
        throw err;
      }
      if (!entry.isDirectory()) continue;
      const sub = this.openDir(entry.name);
      if (!sub.ok) continue; // swapped for a link or removed since the listing: not entered
      try {
        sub.dir.chownTree(uid, gid);
      } finally {
        sub.dir.close();
      }
    }
  }

  private checkFile(name: string, st: fs.Stats): FsRefusal | undefined {
    if (!st.isFile()) return refuse(`${name} is not a regular file`);
    if (st.dev !== this.dev) return refuse(`${name} is on another filesystem`);
    return undefined;
  }
}

function writeAll(fd: number, data: string | Buffer): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}
