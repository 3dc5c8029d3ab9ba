import type { Db } from './database.js';

export interface Group {
  id: number;
  name: string;
  folder: string;
  isAdmin: boolean;
  /** Shared chats answer only to the trigger; the admin group and direct chats need none. */
  requiresTrigger: boolean;
  /** The trigger word; null means `@<assistant name>`. */
  trigger: string | null;
  /** Summary of the older turns archived out of the history. */
  sessionSummary: string | null;
  cursorMessageId: number;
  createdAt: string;
}

interface GroupRow {
  id: number;
  name: string;
  folder: string;
  is_admin: number;
  trigger_word: string | null;
  requires_trigger: number;
  session_summary: string | null;
  cursor_message_id: number;
  created_at: string;
}

const toGroup = (r: GroupRow): Group => ({
  id: r.id,
  name: r.name,
  folder: r.folder,
  isAdmin: r.is_admin === 1,
  requiresTrigger: r.requires_trigger === 1,
  trigger: r.trigger_word,
  sessionSummary: r.session_summary,
  cursorMessageId: r.cursor_message_id,
  createdAt: r.created_at,
});

/** Group names double as folder names, so they are kept to a safe, portable alphabet. */
export const GROUP_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export class GroupStore {
  constructor(private readonly db: Db) {}

  create(input: {
    name: string;
    isAdmin: boolean;
    requiresTrigger?: boolean;
    trigger?: string | null;
  }): Group {
    if (!GROUP_NAME_PATTERN.test(input.name)) {
      throw new Error(
        `invalid group name "${input.name}": use lowercase letters, digits, - and _ (up to 63), starting with a letter or digit`,
      );
    }
    const row = this.db
      .prepare(
        `INSERT INTO groups (name, folder, is_admin, requires_trigger, trigger_word, created_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .all(
        input.name,
        input.name,
        input.isAdmin ? 1 : 0,
        input.requiresTrigger && !input.isAdmin ? 1 : 0,
        input.trigger ?? null,
        new Date().toISOString(),
      )[0] as GroupRow;
    return toGroup(row);
  }

  byName(name: string): Group | undefined {
    const row = this.db.prepare('SELECT * FROM groups WHERE name = ?').get(name) as
      GroupRow | undefined;
    return row && toGroup(row);
  }

  byId(id: number): Group | undefined {
    const row = this.db.prepare('SELECT * FROM groups WHERE id = ?').get(id) as
      GroupRow | undefined;
    return row && toGroup(row);
  }

  admin(): Group | undefined {
    const row = this.db
      .prepare('SELECT * FROM groups WHERE is_admin = 1 ORDER BY id LIMIT 1')
      .get() as GroupRow | undefined;
    return row && toGroup(row);
  }

  list(): Group[] {
    return (this.db.prepare('SELECT * FROM groups ORDER BY id').all() as GroupRow[]).map(toGroup);
  }

  /** The group a chat belongs to, if the chat has been bound to one. */
  forChat(channel: string, chatId: string): Group | undefined {
    const row = this.db
      .prepare(
        `SELECT g.* FROM groups g JOIN chats c ON c.group_id = g.id
         WHERE c.channel = ? AND c.chat_id = ?`,
      )
      .get(channel, chatId) as GroupRow | undefined;
    return row && toGroup(row);
  }

  bindChat(channel: string, chatId: string, groupId: number): void {
    this.db
      .prepare(
        `INSERT INTO chats (channel, chat_id, group_id) VALUES (?, ?, ?)
         ON CONFLICT (channel, chat_id) DO UPDATE SET group_id = excluded.group_id`,
      )
      .run(channel, chatId, groupId);
  }

  /** True when the chat was bound to a group. */
  unbindChat(channel: string, chatId: string): boolean {
    return (
      this.db.prepare('DELETE FROM chats WHERE channel = ? AND chat_id = ?').run(channel, chatId)
        .changes === 1
    );
  }

  /** Chats bound to a group, oldest binding first (the first is the group's home chat). */
  chatsOf(groupId: number): Array<{ channel: string; chatId: string }> {
    return (
      this.db
        .prepare('SELECT channel, chat_id FROM chats WHERE group_id = ? ORDER BY rowid')
        .all(groupId) as Array<{ channel: string; chat_id: string }>
    ).map((r) => ({ channel: r.channel, chatId: r.chat_id }));
  }

  remove(groupId: number): void {
    this.db.prepare('DELETE FROM groups WHERE id = ?').run(groupId);
  }

  setTrigger(groupId: number, requiresTrigger: boolean, trigger: string | null): void {
    this.db
      .prepare('UPDATE groups SET requires_trigger = ?, trigger_word = ? WHERE id = ?')
      .run(requiresTrigger ? 1 : 0, trigger, groupId);
  }

  setSessionSummary(groupId: number, summary: string | null): void {
    this.db.prepare('UPDATE groups SET session_summary = ? WHERE id = ?').run(summary, groupId);
  }

  /** Extra mounts the owner asked for; validated against the allowlist at each cell start. */
  mountRequests(
    groupId: number,
  ): Array<{ hostPath: string; containerPath?: string; readOnly: boolean; untrusted: boolean }> {
    return (
      this.db
        .prepare(
          'SELECT host_path, container_path, read_only, untrusted FROM group_mounts WHERE group_id = ? ORDER BY id',
        )
        .all(groupId) as Array<{
        host_path: string;
        container_path: string | null;
        read_only: number;
        untrusted: number;
      }>
    ).map((r) => ({
      hostPath: r.host_path,
      ...(r.container_path ? { containerPath: r.container_path } : {}),
      readOnly: r.read_only === 1,
      untrusted: r.untrusted === 1,
    }));
  }

  addMountRequest(
    groupId: number,
    m: { hostPath: string; containerPath?: string; readOnly: boolean; untrusted?: boolean },
  ): void {
    this.db
      .prepare(
        `INSERT INTO group_mounts (group_id, host_path, container_path, read_only, untrusted, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (group_id, host_path) DO UPDATE SET
           container_path = excluded.container_path, read_only = excluded.read_only,
           untrusted = excluded.untrusted`,
      )
      .run(
        groupId,
        m.hostPath,
        m.containerPath ?? null,
        m.readOnly ? 1 : 0,
        m.untrusted ? 1 : 0,
        new Date().toISOString(),
      );
  }

  removeMountRequest(groupId: number, hostPath: string): boolean {
    return (
      this.db
        .prepare('DELETE FROM group_mounts WHERE group_id = ? AND host_path = ?')
        .run(groupId, hostPath).changes > 0
    );
  }

  advanceCursor(groupId: number, messageId: number): void {
    this.db
      .prepare('UPDATE groups SET cursor_message_id = MAX(cursor_message_id, ?) WHERE id = ?')
      .run(messageId, groupId);
  }
}
