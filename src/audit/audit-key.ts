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
}

export type KeyReading =
  { state: 'missing' } | { state: 'unusable'; reason: string } | { state: 'ok'; key: AuditKey };

/**
 * Where a log began to be keyed: the seq of its first keyed record. Every record of that log
 * from it on must be keyed, so a log rewritten as plain records is caught. One file per log
 * (the config dir may serve several data dirs), named for the log's path as configured
 * (NANOCELL_HOME), never as resolved on disk: whoever writes the data dir could otherwise
 * swap the audit folder for a symlink and make the verifier look up another log's file.
 * Made once, never replaced.
 */
export type StartReading =
  { state: 'missing' } | { state: 'unusable'; reason: string } | { state: 'ok'; since: number };

export interface AuditKeyFiles {
  keyPath: string;
  startPath: string;
}

export function auditKeyPath(configDir: string): string {
  return path.join(configDir, 'audit.key');
}

/** The key file and the keying-start file of the log at `logPath`. */
export function auditKeyFiles(configDir: string, logPath: string): AuditKeyFiles {
  const id = crypto.createHash('sha256').update(path.resolve(logPath)).digest('hex').slice(0, 32);
  return {
    keyPath: auditKeyPath(configDir),
    startPath: path.join(configDir, 'audit-starts', `${id}.json`),
  };
}

const MAX_KEY_FILE_BYTES = 4096;

const keyFileSchema = z.strictObject({
  version: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{64}$/),
});

const startFileSchema = z.strictObject({
  version: z.literal(1),
  log: z.string(),
  since: z.number().int().positive(),
});

/**
 * Reads the key without following a symlink. Problems never quote the file: it is a secret.
 * The caller decides what a missing key means (create it, or report the log unverifiable).
 */
export function readAuditKey(file: string): KeyReading {
  const read = readOwnerFile(file, 'audit key');
  if (read.state !== 'ok') return read;
  const parsed = keyFileSchema.safeParse(read.json);
  if (!parsed.success) {
    return unusable(file, 'audit key', 'is not an audit key ({"version":1,"key":"<64 hex>"})');
  }
  return { state: 'ok', key: { secret: Buffer.from(parsed.data.key, 'hex') } };
}

export function readKeyingStart(file: string): StartReading {
  const read = readOwnerFile(file, 'keying start');
  if (read.state !== 'ok') return read;
  const parsed = startFileSchema.safeParse(read.json);
  if (!parsed.success) {
    return unusable(file, 'keying start', 'is not {"version":1,"log":"...","since":N}');
  }
  return { state: 'ok', since: parsed.data.since };
}

/** Makes the key (0600, in a 0700 config dir), or returns the one another process made first. */
export function createAuditKey(file: string): KeyReading {
  const key = crypto.randomBytes(32).toString('hex');
  createOnce(file, JSON.stringify({ version: 1, key }));
  return readAuditKey(file);
}

/** Records that `logPath` is keyed from `since` on, unless another writer recorded it first. */
export function recordKeyingStart(file: string, logPath: string, since: number): StartReading {
  createOnce(file, JSON.stringify({ version: 1, log: logPath, since }));
  return readKeyingStart(file);
}

/**
 * The file appears whole (written beside it, then linked into place, which fails if it
 * exists) and is never replaced: a second writer keeps the first one's.
 */
function createOnce(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
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
}

type OwnerFile =
  { state: 'missing' } | { state: 'unusable'; reason: string } | { state: 'ok'; json: unknown };

/** A small JSON file of the owner's: no symlink, a regular file, private, bounded. */
function readOwnerFile(file: string, what: string): OwnerFile {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'missing' };
    if (code === 'ELOOP') return unusable(file, what, 'is a symlink; it must be a regular file');
    return unusable(file, what, `cannot be opened (${code ?? 'error'})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return unusable(file, what, 'is not a regular file');
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8);
      return unusable(file, what, `is readable by others (mode ${mode}); run chmod 600 on it`);
    }
    if (st.size > MAX_KEY_FILE_BYTES) return unusable(file, what, 'is too large');
    const buf = Buffer.alloc(st.size);
    fs.readSync(fd, buf, 0, st.size, 0);
    try {
      return { state: 'ok', json: JSON.parse(buf.toString('utf8')) };
    } catch {
      return unusable(file, what, 'is not valid JSON');
    }
  } finally {
    fs.closeSync(fd);
  }
}

function unusable(
  file: string,
  what: string,
  problem: string,
): { state: 'unusable'; reason: string } {
  return { state: 'unusable', reason: `the ${what} ${file} ${problem}` };
}
