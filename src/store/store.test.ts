import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../agent/model-provider.js';
import { PROJECT_ROOT } from '../config.js';
import { schemaVersion } from './database.js';
import type { NewMessage } from './messages.js';
import { Store } from './store.js';

const inbound = (groupId: number, text: string, chatId = 'chat-1'): NewMessage => ({
  groupId,
  channel: 'terminal',
  chatId,
  direction: 'in',
  sender: 'u1',
  senderName: 'Alice',
  text,
});

const countRows = (store: Store, table: 'groups' | 'messages' | 'history' | 'chats'): number =>
  (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('Store', () => {
  let store: Store;
  beforeEach(() => {
    store = Store.open(':memory:');
  });
  afterEach(() => {
    store.close();
  });

  describe('migrations', () => {
    it('sets the schema version to the newest migration', () => {
      const newest = fs
        .readdirSync(path.join(PROJECT_ROOT, 'src', 'store', 'migrations'))
        .filter((f) => /^\d{3}-.*\.sql$/.test(f))
        .map((f) => Number(f.slice(0, 3)))
        .reduce((a, b) => Math.max(a, b), 0);
      expect(newest).toBeGreaterThan(0);
      expect(schemaVersion(store.db)).toBe(newest);
    });

    describe('on a file database', () => {
      let dir: string;
      beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-store-'));
      });
      afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
      });

      it('uses WAL mode and creates missing parent folders', () => {
        const file = path.join(dir, 'nested', 'nanocell.db');
        const fileStore = Store.open(file);
        try {
          expect(fileStore.db.pragma('journal_mode', { simple: true })).toBe('wal');
          expect(fs.existsSync(file)).toBe(true);
        } finally {
          fileStore.close();
        }
      });

      it('keeps data and does not re-run migrations when reopened', () => {
        const file = path.join(dir, 'nanocell.db');
        const first = Store.open(file);
        first.groups.create({ name: 'main', isAdmin: true });
        const version = schemaVersion(first.db);
        first.close();

        const second = Store.open(file);
        try {
          expect(schemaVersion(second.db)).toBe(version);
          expect(second.groups.list().map((g) => g.name)).toEqual(['main']);
        } finally {
          second.close();
        }
      });
    });
  });

  describe('groups', () => {
    it('creates a group whose folder is its name, with the cursor at 0', () => {
      const group = store.groups.create({ name: 'family', isAdmin: false, trigger: '@Andy' });
      expect(group).toMatchObject({
        name: 'family',
        folder: 'family',
        isAdmin: false,
        trigger: '@Andy',
        cursorMessageId: 0,
      });
      expect(Number.isNaN(Date.parse(group.createdAt))).toBe(false);
      expect(store.groups.byName('family')).toEqual(group);
      expect(store.groups.byId(group.id)).toEqual(group);
    });

    it('defaults the trigger to null (every message is for the assistant)', () => {
      expect(store.groups.create({ name: 'main', isAdmin: true }).trigger).toBeNull();
    });

    it('returns undefined for a group that does not exist', () => {
      expect(store.groups.byName('nobody')).toBeUndefined();
      expect(store.groups.byId(42)).toBeUndefined();
    });

    it('finds the first admin group, or none', () => {
      expect(store.groups.admin()).toBeUndefined();
      store.groups.create({ name: 'family', isAdmin: false });
      expect(store.groups.admin()).toBeUndefined();
      store.groups.create({ name: 'main', isAdmin: true });
      store.groups.create({ name: 'second-admin', isAdmin: true });
      expect(store.groups.admin()?.name).toBe('main');
    });

    it('lists groups in creation order', () => {
      for (const name of ['zeta', 'alpha', 'mid']) store.groups.create({ name, isAdmin: false });
      expect(store.groups.list().map((g) => g.name)).toEqual(['zeta', 'alpha', 'mid']);
    });

    it('refuses a second group with the same name', () => {
      store.groups.create({ name: 'family', isAdmin: false });
      expect(() => store.groups.create({ name: 'family', isAdmin: false })).toThrow();
      expect(store.groups.list()).toHaveLength(1);
    });

    it.each([
      ['an empty name', ''],
      ['upper case', 'Family'],
      ['a space', 'my group'],
      ['a path separator', 'a/b'],
      ['a parent reference', '..'],
      ['a leading dash', '-rf'],
      ['a leading underscore', '_x'],
      ['a dot', 'a.b'],
      ['64 characters', 'a'.repeat(64)],
    ])('rejects a name with %s, saying what is allowed', (_, name) => {
      expect(() => store.groups.create({ name, isAdmin: false })).toThrow(
        /invalid group name .*lowercase letters, digits, - and _/,
      );
      expect(store.groups.list()).toEqual([]);
    });

    it.each(['a', '0', 'family', 'team_2-x', 'a'.repeat(63)])('accepts the name %j', (name) => {
      expect(store.groups.create({ name, isAdmin: false }).name).toBe(name);
    });
  });

  describe('chats', () => {
    it('binds a chat to a group and finds the group by channel and chat id', () => {
      const family = store.groups.create({ name: 'family', isAdmin: false });
      store.groups.bindChat('telegram', '123', family.id);
      expect(store.groups.forChat('telegram', '123')?.name).toBe('family');
      expect(store.groups.forChat('telegram', '999')).toBeUndefined();
      expect(store.groups.forChat('slack', '123')).toBeUndefined();
    });

    it('moves a chat to another group when bound again', () => {
      const a = store.groups.create({ name: 'a', isAdmin: false });
      const b = store.groups.create({ name: 'b', isAdmin: false });
      store.groups.bindChat('telegram', '123', a.id);
      store.groups.bindChat('telegram', '123', b.id);
      expect(store.groups.forChat('telegram', '123')?.name).toBe('b');
      expect(countRows(store, 'chats')).toBe(1);
    });

    it('refuses to bind a chat to a group that does not exist', () => {
      expect(() => store.groups.bindChat('telegram', '123', 999)).toThrow(/FOREIGN KEY/);
    });
  });

  describe('messages', () => {
    it('stores a message and returns it with an id and a timestamp', () => {
      const group = store.groups.create({ name: 'main', isAdmin: true });
      const m = store.messages.add(inbound(group.id, 'hello'));
      expect(m).toMatchObject({ ...inbound(group.id, 'hello'), id: expect.any(Number) });
      expect(Number.isNaN(Date.parse(m.createdAt))).toBe(false);
    });

    it("returns a group's inbound messages after the cursor, oldest first", () => {
      const main = store.groups.create({ name: 'main', isAdmin: true });
      const other = store.groups.create({ name: 'other', isAdmin: false });
      const first = store.messages.add(inbound(main.id, 'one'));
      store.messages.add(inbound(other.id, 'not this group'));
      store.messages.add({ ...inbound(main.id, 'a reply'), direction: 'out', sender: 'assistant' });
      store.messages.add(inbound(main.id, 'two'));
      store.messages.add(inbound(main.id, 'three'));

      expect(store.messages.pendingFor(main.id, 0).map((m) => m.text)).toEqual([
        'one',
        'two',
        'three',
      ]);
      expect(store.messages.pendingFor(main.id, first.id).map((m) => m.text)).toEqual([
        'two',
        'three',
      ]);
    });

    it('returns nothing pending once the cursor is at the last message', () => {
      const main = store.groups.create({ name: 'main', isAdmin: true });
      const last = store.messages.add(inbound(main.id, 'only'));
      expect(store.messages.pendingFor(main.id, last.id)).toEqual([]);
    });

    it('returns the most recent messages in both directions, oldest first', () => {
      const main = store.groups.create({ name: 'main', isAdmin: true });
      store.messages.add(inbound(main.id, 'one'));
      store.messages.add({ ...inbound(main.id, 'two'), direction: 'out' });
      store.messages.add(inbound(main.id, 'three'));
      expect(store.messages.recent(main.id, 2).map((m) => m.text)).toEqual(['two', 'three']);
    });
  });

  describe('cursor', () => {
    it.each([
      { moves: [5], expected: 5 },
      { moves: [5, 9], expected: 9 },
      { moves: [9, 5], expected: 9 },
      { moves: [9, 0], expected: 9 },
      { moves: [3, 3], expected: 3 },
    ])('ends at $expected after advancing to $moves (never backwards)', ({ moves, expected }) => {
      const group = store.groups.create({ name: 'main', isAdmin: true });
      for (const id of moves) store.groups.advanceCursor(group.id, id);
      expect(store.groups.byId(group.id)?.cursorMessageId).toBe(expected);
    });

    it('moves only the named group', () => {
      const a = store.groups.create({ name: 'a', isAdmin: false });
      const b = store.groups.create({ name: 'b', isAdmin: false });
      store.groups.advanceCursor(a.id, 7);
      expect(store.groups.byId(b.id)?.cursorMessageId).toBe(0);
    });
  });

  describe('history', () => {
    it('loads what was appended, content blocks intact, in order', () => {
      const group = store.groups.create({ name: 'main', isAdmin: true });
      const turn: ConversationMessage[] = [
        { role: 'user', content: [{ type: 'text', text: 'list my files' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Looking.' },
            {
              type: 'tool_use',
              id: 'toolu_1',
              name: 'bash',
              input: { command: 'ls -la', nested: { a: [1, null] } },
            },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'ls: denied', is_error: true },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'Nothing there: "quoted" ✓' }] },
      ];
      store.history.append(group.id, turn.slice(0, 2));
      store.history.append(group.id, turn.slice(2));
      expect(store.history.load(group.id)).toEqual(turn);
    });

    it("keeps each group's history apart", () => {
      const a = store.groups.create({ name: 'a', isAdmin: false });
      const b = store.groups.create({ name: 'b', isAdmin: false });
      store.history.append(a.id, [{ role: 'user', content: [{ type: 'text', text: 'for a' }] }]);
      expect(store.history.load(b.id)).toEqual([]);
      expect(store.history.load(a.id)).toHaveLength(1);
    });
  });

  describe('transaction', () => {
    it('returns the value of the function when it succeeds', () => {
      const group = store.transaction(() => store.groups.create({ name: 'main', isAdmin: true }));
      expect(store.groups.byId(group.id)).toEqual(group);
    });

    it('leaves nothing behind when the function throws', () => {
      const boom = new Error('boom');
      expect(() =>
        store.transaction(() => {
          const group = store.groups.create({ name: 'main', isAdmin: true });
          store.groups.bindChat('terminal', 'chat-1', group.id);
          store.messages.add(inbound(group.id, 'hello'));
          store.history.append(group.id, [
            { role: 'user', content: [{ type: 'text', text: 'hello' }] },
          ]);
          throw boom;
        }),
      ).toThrow(boom);
      for (const table of ['groups', 'chats', 'messages', 'history'] as const) {
        expect(countRows(store, table), table).toBe(0);
      }
    });

    it('rolls back a cursor move together with the reply it belongs to', () => {
      const group = store.groups.create({ name: 'main', isAdmin: true });
      const m = store.messages.add(inbound(group.id, 'hello'));
      expect(() =>
        store.transaction(() => {
          store.messages.add({ ...inbound(group.id, 'reply'), direction: 'out' });
          store.groups.advanceCursor(group.id, m.id);
          throw new Error('history write failed');
        }),
      ).toThrow('history write failed');
      expect(store.groups.byId(group.id)?.cursorMessageId).toBe(0);
      expect(store.messages.pendingFor(group.id, 0).map((p) => p.id)).toEqual([m.id]);
      expect(countRows(store, 'messages')).toBe(1);
    });
  });
});
