import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  httpError,
  reply,
  startFakeModelServer,
  type FakeModelServer,
} from '../../test/support/fake-model-server.js';
import { tempHome } from '../../test/support/temp-home.js';
import { AnthropicProvider } from '../agent/anthropic.js';
import type { ConversationMessage } from '../agent/model-provider.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import { ensureGroupFolder } from './group-folder.js';
import { Sessions, cutIndex, estimateTokens, type SessionOptions } from './sessions.js';

const log = pino({ level: 'silent' });

const userText = (text: string): ConversationMessage => ({
  role: 'user',
  content: [{ type: 'text', text }],
});
const assistantText = (text: string): ConversationMessage => ({
  role: 'assistant',
  content: [{ type: 'text', text }],
});
const toolUse = (id: string, command: string): ConversationMessage => ({
  role: 'assistant',
  content: [{ type: 'tool_use', id, name: 'bash', input: { command } }],
});
const toolResult = (id: string, content: string): ConversationMessage => ({
  role: 'user',
  content: [{ type: 'tool_result', tool_use_id: id, content }],
});

/** Two turns, each with a tool round: the only safe cut is before entry 4 ("second question"). */
const twoTurns: ConversationMessage[] = [
  userText('my name is Ana and I like green tea'),
  toolUse('t1', 'cat notes.txt'),
  toolResult('t1', 'buy tea on friday'),
  assistantText('Noted, Ana.'),
  userText('second question'),
  toolUse('t2', 'ls'),
  toolResult('t2', 'notes.txt'),
  assistantText('There is one file.'),
];

describe('estimateTokens', () => {
  it.each([
    { what: 'an empty history', messages: [], min: 1, max: 1 },
    { what: 'a 400-character message', messages: [userText('a'.repeat(400))], min: 100, max: 120 },
    {
      what: 'a 4000-character message',
      messages: [userText('a'.repeat(4000))],
      min: 1000,
      max: 1020,
    },
  ])('estimates about four characters per token for $what', ({ messages, min, max }) => {
    const tokens = estimateTokens(messages);
    expect(tokens).toBeGreaterThanOrEqual(min);
    expect(tokens).toBeLessThanOrEqual(max);
  });

  it('is the history as JSON over four, whether or not frozen contents are remembered', () => {
    const history = [
      userText('hello'),
      {
        role: 'assistant' as const,
        content: Object.freeze([{ type: 'text' as const, text: 'hi there' }]) as never,
      },
    ];
    const whole = Math.ceil(JSON.stringify(history).length / 4);
    const sizes = new WeakMap<object, number>();
    expect(estimateTokens(history)).toBe(whole);
    expect(estimateTokens(history, sizes)).toBe(whole);
    expect(estimateTokens(history, sizes)).toBe(whole);
  });
});

describe('cutIndex', () => {
  it.each([
    { what: 'an empty history', entries: [], keepRecent: 0, expected: -1 },
    {
      what: 'a plain exchange, keeping 2',
      entries: [userText('a'), assistantText('b'), userText('c'), assistantText('d')],
      keepRecent: 2,
      expected: 2,
    },
    {
      what: 'a plain exchange, keeping 1 (steps back to the user message)',
      entries: [userText('a'), assistantText('b'), userText('c'), assistantText('d')],
      keepRecent: 1,
      expected: 2,
    },
    {
      what: 'a history no longer than keepRecent',
      entries: [userText('a'), assistantText('b')],
      keepRecent: 2,
      expected: -1,
    },
    {
      what: 'keepRecent larger than the history',
      entries: [userText('a'), assistantText('b')],
      keepRecent: 10,
      expected: -1,
    },
    {
      what: 'a tool round at the end, keeping 2 (never between tool_use and tool_result)',
      entries: twoTurns,
      keepRecent: 2,
      expected: 4,
    },
    { what: 'two tool turns, keeping 3', entries: twoTurns, keepRecent: 3, expected: 4 },
    { what: 'two tool turns, keeping 4', entries: twoTurns, keepRecent: 4, expected: 4 },
    {
      what: 'two tool turns, keeping 5 (only index 0 is left, which would cut nothing)',
      entries: twoTurns,
      keepRecent: 5,
      expected: -1,
    },
  ])('returns $expected for $what', ({ entries, keepRecent, expected }) => {
    expect(cutIndex(entries, keepRecent)).toBe(expected);
  });

  it('never returns the index of a tool_result message', () => {
    for (let keep = 0; keep <= twoTurns.length; keep++) {
      const cut = cutIndex(twoTurns, keep);
      if (cut === -1) continue;
      const entry = twoTurns[cut];
      expect(entry?.role).toBe('user');
      expect(entry?.content.some((b) => b.type === 'tool_result')).toBe(false);
      expect(twoTurns.length - cut).toBeGreaterThanOrEqual(keep);
    }
  });
});

describe('Sessions', () => {
  let server: FakeModelServer;
  let store: Store;
  let home: { dir: string; cleanup: () => void };
  let outside: { dir: string; cleanup: () => void };
  let group: Group;
  let groupDir: string;

  const options = (overrides: Partial<SessionOptions> = {}): SessionOptions => ({
    home: home.dir,
    assistantName: 'Andy',
    budgetTokens: 50,
    keepRecent: 3,
    maxTokens: 512,
    ...overrides,
  });
  const sessions = (overrides: Partial<SessionOptions> = {}): Sessions =>
    new Sessions(
      store,
      new AnthropicProvider({
        apiKey: 'test-key',
        baseUrl: server.url,
        model: 'claude-test',
        timeoutMs: 5000,
        maxRetries: 0,
      }),
      log,
      options(overrides),
    );
  const archiveDir = () => path.join(groupDir, 'archive');
  const archiveFiles = (): string[] =>
    fs.existsSync(archiveDir()) ? fs.readdirSync(archiveDir()).sort() : [];
  const archivedLines = (file: string): Array<Record<string, unknown>> =>
    fs
      .readFileSync(path.join(archiveDir(), file), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const freshGroup = (): Group => {
    const g = store.groups.byId(group.id);
    if (!g) throw new Error('the test group vanished');
    return g;
  };
  /** The text of the single user message of a recorded summary request. */
  const summaryRequestText = (index: number): string => {
    const content = server.requests[index]?.body?.messages?.[0]?.content;
    if (!Array.isArray(content)) throw new Error('the summary request has no content blocks');
    return content.map((b) => String(b.text ?? '')).join('\n');
  };

  beforeEach(async () => {
    server = await startFakeModelServer();
    server.requireApiKey('test-key');
    store = Store.open(':memory:');
    home = tempHome();
    outside = tempHome('nanocell-outside-');
    group = store.groups.create({ name: 'family', isAdmin: false });
    groupDir = ensureGroupFolder(home.dir, group.folder, 'Andy');
  });
  afterEach(async () => {
    await server.close();
    store.close();
    home.cleanup();
    outside.cleanup();
  });

  describe('compact', () => {
    it('does nothing and asks the model nothing while the history is under budget', async () => {
      store.history.append(group.id, twoTurns);
      const before = store.history.entries(group.id);

      await sessions({ budgetTokens: 100_000 }).compact(group, store.history.load(group.id));

      expect(server.requests).toHaveLength(0);
      expect(store.history.entries(group.id)).toEqual(before);
      expect(freshGroup().sessionSummary).toBeNull();
      expect(archiveFiles()).toEqual([]);
    });

    it('asks the model nothing when over budget but no cut keeps keepRecent entries', async () => {
      store.history.append(group.id, twoTurns);
      const before = store.history.entries(group.id);

      await sessions({ keepRecent: 5 }).compact(group, store.history.load(group.id));

      expect(server.requests).toHaveLength(0);
      expect(store.history.entries(group.id)).toEqual(before);
      expect(archiveFiles()).toEqual([]);
    });

    it('summarises the older turns, stores the summary, archives and drops the originals', async () => {
      store.history.append(group.id, twoTurns);
      const before = store.history.entries(group.id);
      server.enqueue(reply().text('Ana likes green tea; buy tea on Friday.'));

      await sessions({ keepRecent: 2 }).compact(group, store.history.load(group.id));

      expect(server.requests).toHaveLength(1);
      const body = server.requests[0]?.body;
      expect(body?.messages).toHaveLength(1);
      expect(body?.messages?.[0]?.role).toBe('user');
      const text = summaryRequestText(0);
      expect(text).toContain('user: my name is Ana and I like green tea');
      expect(text).toContain('assistant used bash {"command":"cat notes.txt"}');
      expect(text).toContain('tool result: buy tea on friday');
      expect(text).toContain('assistant: Noted, Ana.');
      expect(text).not.toContain('second question');
      expect(text).not.toContain('Summary so far');

      expect(freshGroup().sessionSummary).toBe('Ana likes green tea; buy tea on Friday.');
      expect(store.history.entries(group.id)).toEqual(before.slice(4));
      const files = archiveFiles();
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/-compacted-\d+\.jsonl$/);
      expect(archivedLines(files[0]!)).toEqual(before.slice(0, 4));
      // The summary request counts in the group's usage like a run's.
      expect(store.usage.totals('group', new Date(0), group.id)).toMatchObject([
        { key: String(group.id), requests: 1 },
      ]);
    });

    it('hands the previous summary to the model and replaces it with the new one', async () => {
      store.groups.setSessionSummary(group.id, 'Ana is the owner.');
      store.history.append(group.id, twoTurns);
      server.enqueue(reply().text('Ana is the owner and likes green tea.'));

      await sessions({ keepRecent: 2 }).compact(freshGroup(), store.history.load(group.id));

      expect(summaryRequestText(0)).toContain('Summary so far:\nAna is the owner.');
      expect(summaryRequestText(0)).toContain('user: my name is Ana and I like green tea');
      expect(freshGroup().sessionSummary).toBe('Ana is the owner and likes green tea.');
    });

    it('keeps exactly the recent entries from the last user text message on', async () => {
      store.history.append(group.id, [...twoTurns, userText('third'), assistantText('ok')]);
      server.enqueue(reply().text('summary'));

      await sessions({ keepRecent: 2 }).compact(group, store.history.load(group.id));

      expect(store.history.load(group.id)).toEqual([userText('third'), assistantText('ok')]);
    });

    it('leaves history, summary and archive untouched when the model fails', async () => {
      store.groups.setSessionSummary(group.id, 'old summary');
      store.history.append(group.id, twoTurns);
      const before = store.history.entries(group.id);
      server.enqueue(httpError(400, { message: 'bad request' }));

      // The turn goes on with the full history: compaction failure is logged, not thrown.
      await sessions({ keepRecent: 2 }).compact(freshGroup(), store.history.load(group.id));

      expect(server.requests).toHaveLength(1);
      expect(store.history.entries(group.id)).toEqual(before);
      expect(freshGroup().sessionSummary).toBe('old summary');
      expect(archiveFiles()).toEqual([]);
    });

    it('leaves everything untouched when the model answers with no text', async () => {
      store.history.append(group.id, twoTurns);
      const before = store.history.entries(group.id);
      server.enqueue(reply().text('   '));

      await sessions({ keepRecent: 2 }).compact(group, store.history.load(group.id));

      expect(store.history.entries(group.id)).toEqual(before);
      expect(freshGroup().sessionSummary).toBeNull();
      expect(archiveFiles()).toEqual([]);
    });

    it('refuses to archive through an archive folder planted as a symlink, and keeps the history', async () => {
      fs.symlinkSync(outside.dir, archiveDir());
      store.history.append(group.id, twoTurns);
      const before = store.history.entries(group.id);
      server.enqueue(reply().text('summary'));

      await expect(
        sessions({ keepRecent: 2 }).compact(group, store.history.load(group.id)),
      ).resolves.toBeUndefined();

      expect(fs.readdirSync(outside.dir)).toEqual([]);
      expect(store.history.entries(group.id)).toEqual(before);
      expect(freshGroup().sessionSummary).toBeNull();
    });
  });

  describe('clear', () => {
    const inbound = () =>
      store.messages.add({
        groupId: group.id,
        channel: 'web',
        chatId: 'family-chat',
        direction: 'in',
        sender: 'web:owner',
        senderName: 'owner',
        text: '/clear',
      });

    it('archives the whole history, clears the summary, advances the cursor and stores the reply undelivered', () => {
      store.groups.setSessionSummary(group.id, 'old summary');
      store.history.append(group.id, twoTurns);
      const before = store.history.entries(group.id);
      const message = inbound();

      const outcome = sessions().clear(group.id, message.id);

      expect(outcome).toMatchObject({ ok: true, toolCalls: 0 });
      if (!outcome.ok || outcome.reply === null) throw new Error('expected a reply');
      expect(outcome.reply).toMatch(/fresh conversation/i);
      expect(store.history.entries(group.id)).toEqual([]);
      const after = freshGroup();
      expect(after.sessionSummary).toBeNull();
      expect(after.cursorMessageId).toBe(message.id);

      const stored = store.messages.byId(outcome.messageId);
      expect(stored).toMatchObject({
        groupId: group.id,
        channel: 'web',
        chatId: 'family-chat',
        direction: 'out',
        sender: 'assistant',
        senderName: 'Andy',
        text: outcome.reply,
        deliveredAt: null,
      });
      expect(store.messages.outboxDue(new Date()).map((m) => m.id)).toEqual([outcome.messageId]);

      const files = archiveFiles();
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/-cleared-\d+\.jsonl$/);
      expect(archivedLines(files[0]!)).toEqual(before);
      expect(server.requests).toHaveLength(0);
    });

    it('writes no archive file when the history is already empty, and still clears', () => {
      store.groups.setSessionSummary(group.id, 'old summary');
      const message = inbound();

      const outcome = sessions().clear(group.id, message.id);

      expect(outcome.ok).toBe(true);
      expect(archiveFiles()).toEqual([]);
      expect(freshGroup().sessionSummary).toBeNull();
      expect(freshGroup().cursorMessageId).toBe(message.id);
    });

    it.each([
      { what: 'an unknown group', groupId: 999, messageId: undefined },
      { what: 'an unknown message', groupId: undefined, messageId: 999 },
    ])('answers no_group for $what and changes nothing', ({ groupId, messageId }) => {
      store.history.append(group.id, twoTurns);
      const message = inbound();

      const outcome = sessions().clear(groupId ?? group.id, messageId ?? message.id);

      expect(outcome).toMatchObject({ ok: false, kind: 'no_group', retryable: false });
      expect(store.history.entries(group.id)).toHaveLength(twoTurns.length);
      expect(freshGroup().cursorMessageId).toBe(0);
    });

    it('refuses to archive through an archive folder planted as a symlink and changes nothing', () => {
      fs.symlinkSync(outside.dir, archiveDir());
      store.groups.setSessionSummary(group.id, 'old summary');
      store.history.append(group.id, twoTurns);
      const before = store.history.entries(group.id);
      const message = inbound();

      const outcome = sessions().clear(group.id, message.id);
      expect(outcome.ok && outcome.reply).toMatch(/Could not start afresh: .*not a plain folder/);

      expect(fs.readdirSync(outside.dir)).toEqual([]);
      expect(store.history.entries(group.id)).toEqual(before);
      expect(freshGroup().sessionSummary).toBe('old summary');
      // The /clear is answered (so it is not replayed as an agent turn), and says why.
      expect(freshGroup().cursorMessageId).toBe(message.id);
      expect(store.messages.outboxPendingCount()).toBe(1);
    });
  });
});
