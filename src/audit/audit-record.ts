import crypto from 'node:crypto';
import { z } from 'zod';
import type { StoredEvent } from './audit-event.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';

/** The `prev` of the first record: no record comes before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** How a keyed record's `hash` is made: HMAC-SHA256 with the audit key. */
export const KEYED_ALG = 'hmac-sha256';

/** One line of the log. `hash` covers `prev`, so each record seals every record before it. */
export interface AuditRecord {
  /** 1 for the first record, then one more for each. */
  seq: number;
  /** ISO 8601, UTC. */
  ts: string;
  prev: string;
  /** Present on keyed records; a record without it has a plain SHA-256 `hash` (older logs). */
  alg?: typeof KEYED_ALG;
  hash: string;
  event: StoredEvent;
}

/**
 * The record's `hash`: HMAC-SHA256 with the audit key when `key` is given (then `alg` is part
 * of what is sealed), else plain SHA-256, which anyone who can write the log can recompute.
 */
export function recordHash(
  prev: string,
  seq: number,
  ts: string,
  event: unknown,
  key?: Buffer,
): string {
  if (key === undefined) return sha256Hex(prev + canonicalJson({ seq, ts, event }));
  return crypto
    .createHmac('sha256', key)
    .update(prev + canonicalJson({ seq, ts, alg: KEYED_ALG, event }), 'utf8')
    .digest('hex');
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits');

// Strict: a key added to a record would not be covered by its hash, so it counts as malformed.
const recordSchema = z.strictObject({
  seq: z.number().int().positive(),
  ts: z.string(),
  prev: hex64,
  alg: z.literal(KEYED_ALG).optional(),
  hash: hex64,
  event: z.looseObject({ type: z.string() }),
});

export type ParsedLine = { ok: true; record: AuditRecord } | { ok: false; reason: string };

/** Reads one line of the log. The record's event is the JSON as written, unchanged. */
export function parseRecordLine(line: string): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    return {
      ok: false,
      reason: `not an audit record (${where ? `${where}: ` : ''}${issue?.message ?? 'unknown shape'})`,
    };
  }
  // Hash the event exactly as stored, not the schema's copy of it.
  const event = (json as { event: StoredEvent }).event;
  return { ok: true, record: { ...parsed.data, event } };
}
