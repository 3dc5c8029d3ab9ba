import type { Db } from './database.js';

export interface StoredMessage {
  id: number;
  groupId: number;
  channel: string;
  chatId: string;
  direction: 'in' | 'out';
  sender: string;
  senderName: string;
  text: string;
  createdAt: string;
}

interface MessageRow {
  id: number;
  group_id: number;
  channel: string;
  chat_id: string;
  direction: 'in' | 'out';
  sender: string;
  sender_name: string;
  text: string;
  created_at: string;
}

const toMessage = (r: MessageRow): StoredMessage => ({
  id: r.id,
  groupId: r.group_id,
  channel: r.channel,
  chatId: r.chat_id,
  direction: r.direction,
  sender: r.sender,
  senderName: r.sender_name,
  text: r.text,
  createdAt: r.created_at,
});

export type NewMessage = Omit<StoredMessage, 'id' | 'createdAt'> & { createdAt?: string };

export class MessageStore {
  constructor(private readonly db: Db) {}

  add(m: NewMessage): StoredMessage {
    const row = this.db
      .prepare(
        `INSERT INTO messages (group_id, channel, chat_id, direction, sender, sender_name, text, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        m.groupId,
        m.channel,
        m.chatId,
        m.direction,
        m.sender,
        m.senderName,
        m.text,
        m.createdAt ?? new Date().toISOString(),
      ) as MessageRow;
    return toMessage(row);
  }

  /** Inbound messages of a group after its cursor, oldest first. */
  pendingFor(groupId: number, afterId: number): StoredMessage[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM messages WHERE group_id = ? AND direction = 'in' AND id > ? ORDER BY id`,
        )
        .all(groupId, afterId) as MessageRow[]
    ).map(toMessage);
  }

  recent(groupId: number, limit: number): StoredMessage[] {
    return (
      this.db
        .prepare('SELECT * FROM messages WHERE group_id = ? ORDER BY id DESC LIMIT ?')
        .all(groupId, limit) as MessageRow[]
    )
      .map(toMessage)
      .reverse();
  }
}
