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

/** The conversation of each group as the model sees it, so the next message continues it. */
export class HistoryStore {
  constructor(private readonly db: Db) {}

  load(groupId: number): ConversationMessage[] {
    return this.entries(groupId).map(({ role, content }) => ({ role, content }));
  }

  entries(groupId: number): HistoryEntry[] {
    return (
      this.db
        .prepare('SELECT id, role, content, created_at FROM history WHERE group_id = ? ORDER BY id')
        .all(groupId) as HistoryRow[]
    ).map((r) => ({
      id: r.id,
      role: r.role,
      content: JSON.parse(r.content),
      createdAt: r.created_at,
    }));
  }

  /** Remove a group's entries up to and including `lastId` (after they were archived). */
  deleteThrough(groupId: number, lastId: number): void {
    this.db.prepare('DELETE FROM history WHERE group_id = ? AND id <= ?').run(groupId, lastId);
  }

  append(groupId: number, messages: ConversationMessage[]): void {
    const insert = this.db.prepare(
      'INSERT INTO history (group_id, role, content, created_at) VALUES (?, ?, ?, ?)',
    );
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const m of messages) insert.run(groupId, m.role, JSON.stringify(m.content), now);
    })();
  }
}
