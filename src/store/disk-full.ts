import fs from 'node:fs';
import path from 'node:path';

/**
 * The data disk running full is an expected outcome, not a crash: a run that hits it fails
 * with a plain message, the log drops lines instead of throwing, and a small reserve of space
 * kept at start-up is given back so the failure can still be stored and told to the chat.
 */

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Whether `err` (or its cause) says the disk is full: ENOSPC/EDQUOT, or SQLite's SQLITE_FULL. */
export function isDiskFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && FULL_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export const DISK_FULL_MESSAGE =
  'the data disk is full (NANOCELL_HOME); free some space there and send the message again';

/** Bytes an unprivileged writer may still use on the filesystem of `dir`. */
export function freeBytes(dir: string): number {
  const st = fs.statfsSync(dir);
  return st.bavail * st.bsize;
}

/** Below this much free space the data disk counts as full: a run would only half-succeed. */
export const FULL_BELOW_BYTES = 1024 * 1024;

/**
 * A file of `bytes` allocated in the data dir at start-up and removed the first time the disk
 * is found full, so that the failure message, the audit record and the log line of that
 * moment still fit. Made again once there is room.
 */
export class SpaceReserve {
  constructor(
    private readonly file: string,
    private readonly bytes: number,
  ) {}

  /** Allocate the reserve if it is missing and there is ample room for it (twice its size);
   *  never throws on ENOSPC. */
  ensure(): void {
    if (fs.existsSync(this.file)) return;
    if (freeBytes(path.dirname(this.file)) < 2 * this.bytes) return;
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.file, 'wx', 0o600);
      const chunk = Buffer.alloc(64 * 1024);
      for (let written = 0; written < this.bytes; written += chunk.length) fs.writeSync(fd, chunk);
      fs.fsyncSync(fd);
    } catch (err) {
      if (fd !== undefined) fs.rmSync(this.file, { force: true });
      if (!isDiskFull(err) && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Give the reserve back; true when there was one to give. */
  release(): boolean {
    if (!fs.existsSync(this.file)) return false;
    fs.rmSync(this.file, { force: true });
    return true;
  }
}

/**
 * A pino destination that writes each line synchronously to `file` and drops lines while the
 * disk is full (counting them, and saying how many once it can write again) instead of
 * throwing into whatever was logging.
 */
export class DiskFullTolerantLog {
  private readonly fd: number;
  private dropped = 0;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'a', 0o600);
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  write(line: string): boolean {
    try {
      if (this.dropped > 0) {
        const note = `${JSON.stringify({ level: 40, time: Date.now(), dropped: this.dropped, msg: 'log lines dropped: the disk was full' })}\n`;
        fs.writeSync(this.fd, note);
        this.dropped = 0;
      }
      fs.writeSync(this.fd, line);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.dropped++;
    }
    return true;
  }
}
