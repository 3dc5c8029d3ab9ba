import type { Db } from './database.js';
import type { ConversationMessage } from '../agent/model-provider.js';

interface HistoryRow {
  role: 'user' | 'assistant';
  content: string;
}

/** The conversation of each group as the model sees it, so the next message continues it. */
export class HistoryStore {
  constructor(private readonly db: Db) {}

  load(groupId: number): ConversationMessage[] {
    return (
      this.db
        .prepare('SELECT role, content FROM history WHERE group_id = ? ORDER BY id')
        .all(groupId) as HistoryRow[]
    ).map((r) => ({ role: r.role, content: JSON.parse(r.content) }));
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
