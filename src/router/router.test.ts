import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../channels/channel.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import type { RunOutcome } from '../run/run.js';
import { Router } from './router.js';

const log = pino({ level: 'silent' });

const message = (chatId: string, text: string): InboundMessage => ({
  channel: 'telegram',
  chatId,
  sender: 'u42',
  senderName: 'Alice',
  text,
});

const messageCount = (store: Store): number =>
  (store.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;

describe('Router', () => {
  let store: Store;
  let family: Group;

  beforeEach(() => {
    store = Store.open(':memory:');
    family = store.groups.create({ name: 'family', isAdmin: false });
    store.groups.bindChat('telegram', 'family-chat', family.id);
  });
  afterEach(() => {
    store.close();
  });

  it('refuses a message from an unregistered chat, stores nothing and starts no run', async () => {
    const runs: number[] = [];
    const router = new Router(
      store,
      async (groupId) => {
        runs.push(groupId);
        return { ok: true, reply: null };
      },
      log,
    );

    const result = router.receive(message('stranger-chat', 'let me in'));

    expect(result).toEqual({
      status: 'refused',
      reason:
        'chat telegram:stranger-chat is not bound to any group (the owner binds it with: nanocell groups add NAME --chat telegram:stranger-chat)',
    });
    expect(messageCount(store)).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toEqual([]);
    expect(router.busyGroups()).toEqual([]);
  });

  it('stores the message before the run starts and hands back the run outcome', async () => {
    const seenByRun: string[][] = [];
    const outcome: RunOutcome = {
      ok: true,
      reply: 'hi Alice',
      messageId: 99,
      toolCalls: 0,
    };
    const router = new Router(
      store,
      async (groupId) => {
        const group = store.groups.byId(groupId);
        if (!group) throw new Error(`no group ${groupId}`);
        seenByRun.push(
          store.messages.pendingFor(groupId, group.cursorMessageId).map((m) => m.text),
        );
        return outcome;
      },
      log,
    );

    const result = router.receive(message('family-chat', 'hello'));

    if (result.status !== 'stored') throw new Error(`not stored: ${JSON.stringify(result)}`);
    const [stored] = store.messages.pendingFor(family.id, 0);
    expect(stored).toMatchObject({
      id: result.id,
      groupId: family.id,
      channel: 'telegram',
      chatId: 'family-chat',
      direction: 'in',
      sender: 'u42',
      senderName: 'Alice',
      text: 'hello',
    });
    await expect(result.run).resolves.toEqual(outcome);
    expect(seenByRun).toEqual([['hello']]);
  });

  it('hands back a failed run as its outcome', async () => {
    const failure: RunOutcome = {
      ok: false,
      kind: 'model_auth',
      error: 'bad key',
      retryable: false,
    };
    const router = new Router(store, async () => failure, log);
    const result = router.receive(message('family-chat', 'hello'));
    if (result.status !== 'stored') throw new Error(`not stored: ${JSON.stringify(result)}`);
    await expect(result.run).resolves.toEqual(failure);
  });

  it('folds messages that arrive before the run starts into that one run', async () => {
    const seenByRun: string[][] = [];
    const router = new Router(
      store,
      async (groupId) => {
        seenByRun.push(store.messages.pendingFor(groupId, 0).map((m) => m.text));
        return { ok: true, reply: null };
      },
      log,
    );

    const a = router.receive(message('family-chat', 'one'));
    const b = router.receive(message('family-chat', 'two'));

    if (a.status !== 'stored' || b.status !== 'stored') throw new Error('refused');
    expect(b.id).toBeGreaterThan(a.id);
    expect(b.run).toBe(a.run);
    await a.run;
    expect(seenByRun).toEqual([['one', 'two']]);
  });

  it('takes a click as the reply its action id stands for, from the same chat and sender', async () => {
    const router = new Router(store, async () => ({ ok: true, reply: null }), log);

    const result = router.receiveAction({
      channel: 'telegram',
      chatId: 'family-chat',
      sender: 'u42',
      senderName: 'Alice',
      actionId: '@Andy yes please',
    });

    if (result.status !== 'stored') throw new Error(`not stored: ${JSON.stringify(result)}`);
    expect(store.messages.pendingFor(family.id, 0)).toEqual([
      expect.objectContaining({ id: result.id, sender: 'u42', text: '@Andy yes please' }),
    ]);
    await result.run;
  });

  it('refuses a click from a chat bound to no group', () => {
    const router = new Router(store, async () => ({ ok: true, reply: null }), log);

    const result = router.receiveAction({
      channel: 'web',
      chatId: 'nowhere',
      sender: 'web:owner',
      senderName: 'owner',
      actionId: 'yes K3F9',
    });

    expect(result).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('web:nowhere'),
    });
    expect(messageCount(store)).toBe(0);
  });
});
