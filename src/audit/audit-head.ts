import fs from 'node:fs';
import { z } from 'zod';

/**
 * The last record's seq and hash, kept beside the log. Records cut from the end of the log
 * leave a chain that is still whole; only the head shows that more existed.
 */
export interface AuditHead {
  seq: number;
  hash: string;
}

export type HeadReading =
  { state: 'missing' } | { state: 'malformed'; reason: string } | { state: 'ok'; head: AuditHead };

const headSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

export function readHead(headPath: string): HeadReading {
  let text: string;
  try {
    text = fs.readFileSync(headPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state: 'malformed', reason: 'not valid JSON' };
  }
  const parsed = headSchema.safeParse(json);
  if (!parsed.success)
    return { state: 'malformed', reason: 'expected {"seq": N, "hash": "<64 hex>"}' };
  return { state: 'ok', head: parsed.data };
}

/** Replaces the head atomically (write beside it, then rename), so it is never half-written. */
export function writeHead(headPath: string, head: AuditHead, fsync: boolean): void {
  const tmp = `${headPath}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, `${JSON.stringify({ seq: head.seq, hash: head.hash })}\n`);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, headPath);
}
