import { z } from 'zod';
import type { StoredEvent } from './audit-event.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';

/** The `prev` of the first record: no record comes before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** One line of the log. `hash` covers `prev`, so each record seals every record before it. */
export interface AuditRecord {
  /** 1 for the first record, then one more for each. */
  seq: number;
  /** ISO 8601, UTC. */
  ts: string;
  prev: string;
  hash: string;
  event: StoredEvent;
}

export function recordHash(prev: string, seq: number, ts: string, event: unknown): string {
  return sha256Hex(prev + canonicalJson({ seq, ts, event }));
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits');

// Strict: a key added to a record would not be covered by its hash, so it counts as malformed.
const recordSchema = z.strictObject({
  seq: z.number().int().positive(),
  ts: z.string(),
  prev: hex64,
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
