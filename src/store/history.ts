import type { Db } from './database.js';
import type { ConversationMessage } from '../agent/model-provider.js';

interface HistoryRow {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  created_at: string;
}

export interface HistoryEntry extends ConversationMessage {
  id: number;
  createdAt: string;
}

/** Sessions held parsed in memory, at most; the least recently used is dropped first. */
const CACHED_SESSIONS = 16;

interface CachedSession {
  /** The newest id and the row count when read: another process's change alters either. */
  lastId: number;
  count: number;
  entries: HistoryEntry[];
}

/**
 * The conversation of each group as the model sees it, so the next message continues it.
 * A session is parsed once and kept (issue 17: a turn no longer re-reads and re-parses the
 * whole history); each read checks the newest id and count, one indexed query, so a change
 * made by another process is seen.
 */
export class HistoryStore {
  private readonly cache = new Map<number, CachedSession>();

  constructor(private readonly db: Db) {}

  load(groupId: number): ConversationMessage[] {
    return this.entries(groupId).map(({ role, content }) => ({ role, content }));
  }

  entries(groupId: number): HistoryEntry[] {
    const { lastId, count } = this.db
      .prepare(
        'SELECT coalesce(max(id), 0) AS lastId, count(*) AS count FROM history WHERE group_id = ?',
      )
      .get(groupId) as { lastId: number; count: number };
    let session = this.cache.get(groupId);
    if (!session || session.lastId !== lastId || session.count !== count) {
      session = { lastId, count, entries: this.read(groupId) };
    }
    this.remember(groupId, session);
    return session.entries.slice();
  }

  /** Remove a group's entries up to and including `lastId` (after they were archived). */
  deleteThrough(groupId: number, lastId: number): void {
    this.db.prepare('DELETE FROM history WHERE group_id = ? AND id <= ?').run(groupId, lastId);
    this.cache.delete(groupId);
  }

  append(groupId: number, messages: ConversationMessage[]): void {
    const insert = this.db.prepare(
      'INSERT INTO history (group_id, role, content, created_at) VALUES (?, ?, ?, ?)',
    );
    const now = new Date().toISOString();
    const session = this.cache.get(groupId);
    const added: HistoryEntry[] = [];
    this.db.transaction(() => {
      for (const m of messages) {
        const content = JSON.stringify(m.content);
        const id = Number(insert.run(groupId, m.role, content, now).lastInsertRowid);
        // A copy of its own: the caller may go on changing what it appended.
        added.push(frozen({ id, role: m.role, content: JSON.parse(content), createdAt: now }));
      }
    })();
    const last = added.at(-1);
    // Appended after what was cached, with nothing else in between: the cache stays whole.
    if (session && last && added[0]!.id > session.lastId) {
      this.cache.set(groupId, {
        lastId: last.id,
        count: session.count + added.length,
        entries: [...session.entries, ...added],
      });
    }
  }

  private read(groupId: number): HistoryEntry[] {
    return (
      this.db
        .prepare('SELECT id, role, content, created_at FROM history WHERE group_id = ? ORDER BY id')
        .all(groupId) as HistoryRow[]
    ).map((r) =>
      frozen({ id: r.id, role: r.role, content: JSON.parse(r.content), createdAt: r.created_at }),
    );
  }

  private remember(groupId: number, session: CachedSession): void {
    this.cache.delete(groupId);
    this.cache.set(groupId, session);
    if (this.cache.size > CACHED_SESSIONS) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}

/** Cached entries are shared by every reader: frozen, so a reader that changes one fails loudly. */
function frozen<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}
