import type { SavedMedia } from '../media/save-inbound-media.js';
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
  /** Inbound: the files that came with it (saved under the group folder's inbox/, or dropped). */
  media: SavedMedia[];
  /** Inbound: whether it asked for the assistant (trigger word, or a chat that needs none). */
  triggered: boolean;
  /** Outbound: when the channel took it; null while it waits in the outbox. */
  deliveredAt: string | null;
  attempts: number;
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
  media: string | null;
  triggered: number;
  delivered_at: string | null;
  attempts: number;
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
  media: parseMedia(r.media),
  triggered: r.triggered === 1,
  deliveredAt: r.delivered_at,
  attempts: r.attempts,
  createdAt: r.created_at,
});

/** The stored JSON of the host's own writing; anything else reads as no media. */
function parseMedia(json: string | null): SavedMedia[] {
  if (json === null) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? (parsed as SavedMedia[]) : [];
  } catch {
    return [];
  }
}

export type NewMessage = Omit<
  StoredMessage,
  'id' | 'createdAt' | 'triggered' | 'deliveredAt' | 'attempts' | 'media'
> & { createdAt?: string; triggered?: boolean; media?: SavedMedia[] };

export class MessageStore {
  constructor(private readonly db: Db) {}

  add(m: NewMessage): StoredMessage {
    const row = this.db
      .prepare(
        `INSERT INTO messages
           (group_id, channel, chat_id, direction, sender, sender_name, text, triggered, created_at, next_attempt_at, media)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .all(
        m.groupId,
        m.channel,
        m.chatId,
        m.direction,
        m.sender,
        m.senderName,
        m.text,
        m.triggered === false ? 0 : 1,
        m.createdAt ?? new Date().toISOString(),
        m.direction === 'out' ? new Date(0).toISOString() : null,
        m.media?.length ? JSON.stringify(m.media) : null,
      )[0] as MessageRow;
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

  /** Groups that have a triggered inbound message after their cursor: work left by a crash. */
  groupsWithPendingWork(): number[] {
    return (
      this.db
        .prepare(
          `SELECT DISTINCT m.group_id AS id FROM messages m JOIN groups g ON g.id = m.group_id
           WHERE m.direction = 'in' AND m.triggered = 1 AND m.id > g.cursor_message_id`,
        )
        .all() as Array<{ id: number }>
    ).map((r) => r.id);
  }

  /** Outbound messages due for (another) delivery attempt, oldest first. */
  outboxDue(now: Date, limit = 50): StoredMessage[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM messages WHERE direction = 'out' AND delivered_at IS NULL
           AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
        )
        .all(now.toISOString(), limit) as MessageRow[]
    ).map(toMessage);
  }

  outboxPendingCount(): number {
    return (
      this.db
        .prepare(
          `SELECT COUNT(*) AS n FROM messages WHERE direction = 'out' AND delivered_at IS NULL`,
        )
        .get() as { n: number }
    ).n;
  }

  markDelivered(id: number, at: Date): void {
    this.db
      .prepare('UPDATE messages SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?')
      .run(at.toISOString(), id);
  }

  /** A reply edited in place (a streamed reply growing); the chat's history shows the latest. */
  updateText(id: number, text: string): void {
    this.db
      .prepare(`UPDATE messages SET text = ? WHERE id = ? AND direction = 'out'`)
      .run(text, id);
  }

  markDeliveryFailed(id: number, error: string, nextAttemptAt: Date): void {
    this.db
      .prepare(
        'UPDATE messages SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?',
      )
      .run(error.slice(0, 500), nextAttemptAt.toISOString(), id);
  }

  byId(id: number): StoredMessage | undefined {
    const row = this.db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as
      MessageRow | undefined;
    return row && toMessage(row);
  }

  /** A chat's messages after `afterId` as its owner sees them: inbound, and replies delivered. */
  chatHistory(channel: string, chatId: string, afterId: number, limit = 200): StoredMessage[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM messages WHERE channel = ? AND chat_id = ? AND id > ?
           AND (direction = 'in' OR delivered_at IS NOT NULL) ORDER BY id LIMIT ?`,
        )
        .all(channel, chatId, afterId, limit) as MessageRow[]
    ).map(toMessage);
  }

  /** A chat's newest `limit` messages (as chatHistory shows them), newest first. */
  chatHistoryBefore(channel: string, chatId: string, limit: number): StoredMessage[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM messages WHERE channel = ? AND chat_id = ?
           AND (direction = 'in' OR delivered_at IS NOT NULL) ORDER BY id DESC LIMIT ?`,
        )
        .all(channel, chatId, limit) as MessageRow[]
    ).map(toMessage);
  }

  /** The chat a group's owner last wrote from: where unprompted output (a task's) goes. */
  lastInboundChat(groupId: number): { channel: string; chatId: string } | undefined {
    const row = this.db
      .prepare(
        `SELECT channel, chat_id FROM messages WHERE group_id = ? AND direction = 'in'
         ORDER BY id DESC LIMIT 1`,
      )
      .get(groupId) as { channel: string; chat_id: string } | undefined;
    return row && { channel: row.channel, chatId: row.chat_id };
  }
}
