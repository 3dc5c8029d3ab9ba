import type { Db } from './database.js';

/** One place in a group's past conversation that matched a search. */
export interface HistoryHit {
  role: 'user' | 'assistant';
  createdAt: string;
  /** Still in the live conversation, or only in the archive (compacted or cleared). */
  where: 'history' | 'archive';
  /** The matching passage, the matched words in [brackets]. */
  snippet: string;
}

interface HitRow {
  role: 'user' | 'assistant';
  created_at: string;
  live: number;
  snippet: string;
}

const MAX_QUERY_WORDS = 16;

/**
 * Full-text search (SQLite FTS5, migration 012) over one group's conversation and archive.
 * Always scoped to one group id, which the caller takes from the run, never from the model.
 */
export class HistorySearch {
  constructor(private readonly db: Db) {}

  search(groupId: number, query: string, limit: number): HistoryHit[] {
    const match = ftsQuery(query);
    if (!match) return [];
    const rows = this.db
      .prepare(
        `SELECT f.role, f.created_at,
                EXISTS (SELECT 1 FROM history_fts_live l WHERE l.fts_rowid = f.rowid) AS live,
                snippet(history_fts, 0, '[', ']', ' … ', 24) AS snippet
           FROM history_fts f
          WHERE history_fts MATCH ? AND CAST(f.group_id AS INTEGER) = ?
          ORDER BY rank
          LIMIT ?`,
      )
      .all(match, groupId, limit) as HitRow[];
    return rows.map((r) => ({
      role: r.role,
      createdAt: r.created_at,
      where: r.live ? 'history' : 'archive',
      snippet: r.snippet,
    }));
  }
}

/**
 * The words of a search as an FTS5 query that cannot be malformed: each word is quoted (a
 * quote inside doubled), all must match; a trailing `*` keeps its prefix meaning.
 */
export function ftsQuery(query: string): string | undefined {
  const words = query
    .split(/[\s"]+/u)
    .map((w) => w.replace(/[^\p{L}\p{N}_*'-]/gu, ''))
    .filter((w) => w.replace(/\*/g, '').length > 0)
    .slice(0, MAX_QUERY_WORDS);
  if (words.length === 0) return undefined;
  return words
    .map((w) => {
      const prefix = w.endsWith('*');
      const bare = w.replace(/\*/g, '');
      return `"${bare}"${prefix ? '*' : ''}`;
    })
    .join(' ');
}
