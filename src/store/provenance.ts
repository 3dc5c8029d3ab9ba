import { z } from 'zod';
import {
  taint,
  TRUSTED,
  type ProvenanceLabel,
  type ProvenanceSource,
} from '../guard/provenance.js';
import type { Db } from './database.js';

const sourcesSchema = z.array(
  z.object({
    kind: z.enum(['chat-message', 'email', 'web', 'mcp', 'mount', 'host-tool']),
    detail: z.string(),
  }),
);

/** Each group session's provenance label, kept across runs until the session is cleared. */
export class ProvenanceStore {
  constructor(private readonly db: Db) {}

  get(groupId: number): ProvenanceLabel {
    const row = this.db
      .prepare('SELECT sources FROM session_provenance WHERE group_id = ?')
      .get(groupId) as { sources: string } | undefined;
    if (!row) return TRUSTED;
    const parsed = sourcesSchema.safeParse(JSON.parse(row.sources));
    // A row this version cannot read still means "untrusted": never fail open.
    if (!parsed.success)
      return { untrusted: true, sources: [{ kind: 'host-tool', detail: 'unknown' }] };
    return { untrusted: true, sources: parsed.data };
  }

  /** The session has read `source`; returns the label now. */
  taint(groupId: number, source: ProvenanceSource): ProvenanceLabel {
    const label = taint(this.get(groupId), source);
    this.db
      .prepare(
        `INSERT INTO session_provenance (group_id, sources) VALUES (?, ?)
         ON CONFLICT (group_id) DO UPDATE SET sources = excluded.sources`,
      )
      .run(groupId, JSON.stringify(label.sources));
    return label;
  }

  /** A fresh session (/clear): trusted again. */
  clear(groupId: number): void {
    this.db.prepare('DELETE FROM session_provenance WHERE group_id = ?').run(groupId);
  }
}
