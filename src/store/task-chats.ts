import type { Db } from './database.js';

/** The chat a task was scheduled from; a task without one answers its group's home chat. */
export class TaskChatStore {
  constructor(private readonly db: Db) {}

  get(taskId: number): { channel: string; chatId: string } | undefined {
    const r = this.db
      .prepare('SELECT channel, chat_id FROM task_chats WHERE task_id = ?')
      .get(taskId) as { channel: string; chat_id: string } | undefined;
    return r && { channel: r.channel, chatId: r.chat_id };
  }

  set(taskId: number, chat: { channel: string; chatId: string }): void {
    this.db
      .prepare(
        `INSERT INTO task_chats (task_id, channel, chat_id) VALUES (?, ?, ?)
         ON CONFLICT (task_id) DO UPDATE SET channel = excluded.channel, chat_id = excluded.chat_id`,
      )
      .run(taskId, chat.channel, chat.chatId);
  }
}
