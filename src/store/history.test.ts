import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../agent/model-provider.js';
import { Store } from './store.js';

const user = (text: string): ConversationMessage => ({
  role: 'user',
  content: [{ type: 'text', text }],
});

/** The session kept in memory (issue 17) must never differ from what the database holds. */
describe('HistoryStore, kept in memory', () => {
  let dir: string;
  let host: Store;
  let other: Store;
  let groupId: number;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-history-'));
    const file = path.join(dir, 'db.sqlite');
    host = Store.open(file);
    other = Store.open(file);
    groupId = host.groups.create({ name: 'family', isAdmin: false }).id;
  });
  afterEach(() => {
    host.close();
    other.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives what was appended, in order, after one read', () => {
    host.history.append(groupId, [user('one')]);
    expect(host.history.load(groupId)).toEqual([user('one')]);
    host.history.append(groupId, [user('two'), user('three')]);
    expect(host.history.load(groupId).map((m) => m.content[0])).toEqual([
      { type: 'text', text: 'one' },
      { type: 'text', text: 'two' },
      { type: 'text', text: 'three' },
    ]);
  });

  it('sees rows another process appended or deleted', () => {
    host.history.append(groupId, [user('one')]);
    expect(host.history.load(groupId)).toHaveLength(1);
    other.history.append(groupId, [user('from elsewhere')]);
    expect(host.history.load(groupId).at(-1)).toEqual(user('from elsewhere'));
    const first = other.history.entries(groupId)[0]!;
    other.history.deleteThrough(groupId, first.id);
    expect(host.history.load(groupId)).toEqual([user('from elsewhere')]);
  });

  it('is not changed by a caller changing what it appended or what it read', () => {
    const message = user('original');
    host.history.append(groupId, [message]);
    (message.content[0] as { text: string }).text = 'changed after';
    const read = host.history.load(groupId);
    read.push(user('pushed by the reader'));
    expect(() => {
      (read[0]!.content[0] as { text: string }).text = 'changed in place';
    }).toThrow(TypeError);
    expect(host.history.load(groupId)).toEqual([user('original')]);
  });

  it('forgets what was deleted through it', () => {
    host.history.append(groupId, [user('one'), user('two')]);
    const entries = host.history.entries(groupId);
    host.history.deleteThrough(groupId, entries[0]!.id);
    expect(host.history.load(groupId)).toEqual([user('two')]);
  });
});
