import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/** Who holds a data dir, as it wrote it down when it took the lock. */
export interface LockHolder {
  pid: number;
  /** The command holding it: `start` (the host), or a stand-alone `chat`/`ask`/... */
  command: string;
  /** The host's web chat address, once it listens. */
  url?: string;
  startedAt: string;
}

const holderSchema = z.object({
  pid: z.number().int().positive(),
  command: z.string().max(40),
  url: z.string().max(400).optional(),
  startedAt: z.string().max(40),
});

export type LockResult =
  { ok: true; lock: DataDirLock } | { ok: false; holder: LockHolder | undefined };

const MAX_HOLDER_BYTES = 4096;

export function lockInfoPath(home: string): string {
  return path.join(home, 'lock.json');
}

/**
 * The one owner of a data dir. The lock is a Linux abstract unix socket named after the data
 * dir's device and inode: binding it is atomic, only one process can hold the name, and the
 * kernel releases it when the holder exits in any way (kill -9 included), so there is no stale
 * lock to clean up and no race between two starters. Sockets are close-on-exec, so cells
 * started by the holder do not inherit it. `lock.json` beside the data only says who holds it.
 */
/** The lock cannot be taken on this system at all (not a busy lock: that is a result). */
export class DataDirLockError extends Error {}

export class DataDirLock {
  private constructor(
    private readonly server: net.Server,
    private readonly home: string,
    private holder: LockHolder,
  ) {}

  static async acquire(home: string, command: string): Promise<LockResult> {
    if (process.platform !== 'linux') {
      throw new DataDirLockError(
        `the data dir lock uses Linux abstract sockets, which ${process.platform} does not have; nanocell's host runs on Linux only for now`,
      );
    }
    const server = net.createServer((socket) => socket.destroy());
    const name = lockName(home);
    const bound = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') resolve(false);
        else reject(err);
      });
      server.listen(name, () => resolve(true));
    });
    if (!bound) return { ok: false, holder: readLockHolder(home) };
    // A lock must not keep a finished command alive; exiting releases it.
    server.unref();
    const lock = new DataDirLock(server, home, {
      pid: process.pid,
      command,
      startedAt: new Date().toISOString(),
    });
    lock.write();
    return { ok: true, lock };
  }

  /** What this process wrote down about itself. */
  info(): LockHolder {
    return this.holder;
  }

  /** Record the host's address for the next process that finds the lock taken. */
  setUrl(url: string): void {
    this.holder = { ...this.holder, url };
    this.write();
  }

  async release(): Promise<void> {
    // Only our own record is removed; the lock itself goes with the socket.
    if (readLockHolder(this.home)?.pid === process.pid) {
      fs.rmSync(lockInfoPath(this.home), { force: true });
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private write(): void {
    // Written aside and renamed, so a reader never sees half a record. Only the holder of the
    // lock writes here, so the temporary name cannot collide.
    const file = lockInfoPath(this.home);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, `${JSON.stringify(this.holder)}\n`, { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
  }
}

/** Who holds the data dir, if it says so (undefined when unreadable or malformed). */
export function readLockHolder(home: string): LockHolder | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(lockInfoPath(home), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const buf = Buffer.alloc(MAX_HOLDER_BYTES);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const parsed = holderSchema.safeParse(JSON.parse(buf.subarray(0, n).toString('utf8')));
    if (!parsed.success) return undefined;
    const { url, ...rest } = parsed.data;
    return { ...rest, ...(url !== undefined ? { url } : {}) };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function lockName(home: string): string {
  const st = fs.statSync(home);
  const id = crypto.createHash('sha256').update(`${st.dev}:${st.ino}`).digest('hex').slice(0, 32);
  return `\0nanocell-data-dir-${id}`;
}
