import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The secret that keys the audit chain (HMAC-SHA256). It lives in the owner's config dir,
 * which no cell can mount and which may not lie inside the data dir, so whoever can rewrite
 * the log and its head (both in the data dir) cannot recompute the chain.
 */
export interface AuditKey {
  secret: Buffer;
  /** The seq of the first keyed record: every record from it on must be keyed. */
  since: number;
}

export type KeyReading =
  { state: 'missing' } | { state: 'unusable'; reason: string } | { state: 'ok'; key: AuditKey };

export function auditKeyPath(configDir: string): string {
  return path.join(configDir, 'audit.key');
}

const MAX_KEY_FILE_BYTES = 4096;

const keyFileSchema = z.strictObject({
  version: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  since: z.number().int().positive(),
});

/**
 * Reads the key without following a symlink. Problems never quote the file: it is a secret.
 * The caller decides what a missing key means (create it, or report the log unverifiable).
 */
export function readAuditKey(file: string): KeyReading {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'missing' };
    if (code === 'ELOOP') return unusable(file, 'is a symlink; it must be a regular file');
    return unusable(file, `cannot be opened (${code ?? 'error'})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return unusable(file, 'is not a regular file');
    if ((st.mode & 0o077) !== 0) {
      return unusable(
        file,
        `is readable by others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    if (st.size > MAX_KEY_FILE_BYTES) return unusable(file, 'is too large to be an audit key');
    const buf = Buffer.alloc(st.size);
    fs.readSync(fd, buf, 0, st.size, 0);
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return unusable(file, 'is not valid JSON');
    }
    const parsed = keyFileSchema.safeParse(json);
    if (!parsed.success) {
      return unusable(file, 'is not an audit key ({"version":1,"key":"<64 hex>","since":N})');
    }
    return {
      state: 'ok',
      key: { secret: Buffer.from(parsed.data.key, 'hex'), since: parsed.data.since },
    };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Makes the key (0600, in a 0700 config dir) for a chain whose next record is `since`, or
 * returns the one another process made first: the file appears whole (written beside it,
 * then linked into place, which fails if it exists) and is never replaced.
 */
export function createAuditKey(file: string, since: number): KeyReading {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const body = JSON.stringify({
    version: 1,
    key: crypto.randomBytes(32).toString('hex'),
    since,
  });
  const fd = fs.openSync(
    tmp,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    0o600,
  );
  try {
    fs.writeFileSync(fd, `${body}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.unlinkSync(tmp);
  }
  return readAuditKey(file);
}

function unusable(file: string, problem: string): KeyReading {
  return { state: 'unusable', reason: `the audit key ${file} ${problem}` };
}
