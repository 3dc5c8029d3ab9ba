import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeChannel } from '../../test/support/fake-channel.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import { Outbox } from './outbox.js';

const log = pino({ level: 'silent' });

/** What reached the channel, as chat and text. */
const delivered = (channel: FakeChannel): Array<{ chatId: string; text: string }> =>
  channel.sent.map(({ chatId, message }) => ({ chatId, text: message.text }));

interface OutboxRow {
  attempts: number;
  delivered_at: string | null;
  next_attempt_at: string | null;
  last_error: string | null;
}

describe('Outbox', () => {
  let store: Store;
  let group: Group;
  let clock: number;
  const now = () => new Date(clock);
  const T0 = Date.parse('2026-03-01T10:00:00.000Z');

  const row = (id: number): OutboxRow => {
    const r = store.db
      .prepare(
        'SELECT attempts, delivered_at, next_attempt_at, last_error FROM messages WHERE id = ?',
      )
      .get(id) as OutboxRow | undefined;
    if (!r) throw new Error(`no message ${id}`);
    return r;
  };
  const store_ = (channel: string, chatId: string, text: string): number =>
    store.messages.add({
      groupId: group.id,
      channel,
      chatId,
      direction: 'out',
      sender: 'assistant',
      senderName: 'Andy',
      text,
    }).id;

  beforeEach(() => {
    store = Store.open(':memory:');
    group = store.groups.create({ name: 'family', isAdmin: false });
    clock = T0;
  });
  afterEach(() => {
    store.close();
  });

  it('stores a message, delivers it once and marks it delivered', async () => {
    const web = new FakeChannel('web');
    const outbox = new Outbox(store, log, { now });
    outbox.register(web);

    const id = outbox.send(group.id, 'web', 'family-chat', 'hello', 'Andy');
    await outbox.flush();
    await outbox.flush();

    expect(delivered(web)).toEqual([{ chatId: 'family-chat', text: 'hello' }]);
    expect(store.messages.byId(id)).toMatchObject({
      direction: 'out',
      senderName: 'Andy',
      deliveredAt: new Date(T0).toISOString(),
      attempts: 1,
    });
    expect(store.messages.outboxPendingCount()).toBe(0);
  });

  it('retries a failing channel with capped exponential backoff and delivers exactly once', async () => {
    const web = new FakeChannel('web');
    web.failures = [new Error('platform down'), new Error('still down')];
    const outbox = new Outbox(store, log, { now, baseDelayMs: 1000, maxDelayMs: 1500 });
    outbox.register(web);
    const id = store_('web', 'family-chat', 'hello');

    await outbox.flush();
    expect(web.attempts).toBe(1);
    expect(row(id)).toMatchObject({
      attempts: 1,
      delivered_at: null,
      next_attempt_at: new Date(T0 + 1000).toISOString(),
      last_error: 'platform down',
    });

    clock = T0 + 999;
    await outbox.flush();
    expect(web.attempts).toBe(1);

    clock = T0 + 1000;
    await outbox.flush();
    expect(web.attempts).toBe(2);
    // 1000 * 2^1 = 2000, capped at 1500.
    expect(row(id)).toMatchObject({
      attempts: 2,
      delivered_at: null,
      next_attempt_at: new Date(T0 + 1000 + 1500).toISOString(),
      last_error: 'still down',
    });

    clock = T0 + 2499;
    await outbox.flush();
    expect(web.attempts).toBe(2);

    clock = T0 + 2500;
    await outbox.flush();
    expect(web.attempts).toBe(3);
    expect(delivered(web)).toEqual([{ chatId: 'family-chat', text: 'hello' }]);
    expect(row(id)).toMatchObject({ attempts: 3, delivered_at: new Date(T0 + 2500).toISOString() });

    clock = T0 + 60_000;
    await outbox.flush();
    expect(web.attempts).toBe(3);
    expect(delivered(web)).toHaveLength(1);
  });

  it.each([
    { attempt: 0, delayMs: 1000 },
    { attempt: 1, delayMs: 2000 },
    { attempt: 2, delayMs: 4000 },
    { attempt: 3, delayMs: 5000 },
    { attempt: 10, delayMs: 5000 },
  ])('waits $delayMs ms after failed attempt number $attempt', async ({ attempt, delayMs }) => {
    const web = new FakeChannel('web');
    web.failures = [new Error('down')];
    const outbox = new Outbox(store, log, { now, baseDelayMs: 1000, maxDelayMs: 5000 });
    outbox.register(web);
    const id = store_('web', 'c', 'hello');
    store.db.prepare('UPDATE messages SET attempts = ? WHERE id = ?').run(attempt, id);

    await outbox.flush();

    expect(row(id).next_attempt_at).toBe(new Date(T0 + delayMs).toISOString());
  });

  it('tells once, after the third failed try, that a message is not getting through', async () => {
    const chat = new FakeChannel('chat');
    const reported: string[] = [];
    const outbox = new Outbox(store, log, {
      now,
      baseDelayMs: 10,
      onUndeliverable: (m, error) => void reported.push(`${m.chatId}: ${error}`),
    });
    outbox.register(chat);
    chat.failures = Array.from({ length: 5 }, () => new Error('token revoked'));
    const id = outbox.send(group.id, 'chat', 'c9', 'hello', 'Andy');
    for (let i = 0; i < 5; i++) {
      await outbox.flush();
      clock += 60_000;
    }
    expect(reported).toEqual(['c9: token revoked']);
    await outbox.flush();
    expect(store.messages.byId(id)?.deliveredAt).toBeTruthy();
  });

  it('keeps a message for an unregistered channel pending for a later outbox on the same store', async () => {
    const web = new FakeChannel('web');
    const first = new Outbox(store, log, { now });
    first.register(web);
    const forTelegram = store_('telegram', 'tg-chat', 'for telegram');
    const forWeb = store_('web', 'family-chat', 'for web');

    await first.flush();

    expect(delivered(web)).toEqual([{ chatId: 'family-chat', text: 'for web' }]);
    expect(store.messages.byId(forWeb)?.deliveredAt).not.toBeNull();
    expect(row(forTelegram)).toMatchObject({ attempts: 0, delivered_at: null });
    first.stop();

    // A restart: a new outbox on the same store, now with the telegram channel.
    const telegram = new FakeChannel('telegram');
    const web2 = new FakeChannel('web');
    const second = new Outbox(store, log, { now });
    second.register(telegram);
    second.register(web2);
    await second.flush();

    expect(delivered(telegram)).toEqual([{ chatId: 'tg-chat', text: 'for telegram' }]);
    expect(delivered(web2)).toEqual([]);
    expect(store.messages.outboxPendingCount()).toBe(0);
  });

  it('delivers after a restart a message whose retry came due while the host was down', async () => {
    const web = new FakeChannel('web');
    web.failures = [new Error('down')];
    const first = new Outbox(store, log, { now, baseDelayMs: 1000 });
    first.register(web);
    const id = store_('web', 'family-chat', 'hello');
    await first.flush();
    expect(store.messages.byId(id)?.deliveredAt).toBeNull();

    clock = T0 + 10 * 60_000;
    const web2 = new FakeChannel('web');
    const second = new Outbox(store, log, { now });
    second.register(web2);
    await second.flush();

    expect(delivered(web2)).toEqual([{ chatId: 'family-chat', text: 'hello' }]);
    expect(row(id)).toMatchObject({ attempts: 2 });
  });

  it('does not deliver twice when flush() is called while a delivery is in flight', async () => {
    const web = new FakeChannel('web');
    let release!: () => void;
    web.gate = new Promise<void>((resolve) => (release = resolve));
    const outbox = new Outbox(store, log, { now });
    outbox.register(web);
    store_('web', 'family-chat', 'one');
    store_('web', 'family-chat', 'two');

    const entered = web.nextSend();
    const flushes = [outbox.flush()];
    await entered;
    flushes.push(outbox.flush(), outbox.flush());
    release();
    await Promise.all(flushes);
    await outbox.flush();

    expect(delivered(web).map((m) => m.text)).toEqual(['one', 'two']);
    expect(web.attempts).toBe(2);
    expect(store.messages.outboxPendingCount()).toBe(0);
  });

  it('delivers a message stored during a flush in the pass a concurrent flush() asked for', async () => {
    const web = new FakeChannel('web');
    let release!: () => void;
    web.gate = new Promise<void>((resolve) => (release = resolve));
    const outbox = new Outbox(store, log, { now });
    outbox.register(web);
    store_('web', 'c', 'first');

    const entered = web.nextSend();
    const running = outbox.flush();
    await entered;
    store_('web', 'c', 'second');
    const again = outbox.flush();
    release();
    await Promise.all([running, again]);

    expect(delivered(web).map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('records a failed attempt, and resolves flush(), when a channel rejects with a non-Error value', async () => {
    // BUG (outbox.ts deliverDue): `(err as Error).message ?? String(err)` reads `.message`
    // of undefined/null and throws a TypeError inside the catch: flush() rejects (an
    // unhandled rejection from send()/start(), which call `void this.flush()`), and the
    // attempt is never recorded. Fix: `err instanceof Error ? err.message : String(err)`.
    const web = new FakeChannel('web');
    web.failures = [undefined];
    const outbox = new Outbox(store, log, { now });
    outbox.register(web);
    const id = store_('web', 'c', 'hello');

    await outbox.flush();

    expect(row(id)).toMatchObject({ attempts: 1, delivered_at: null, last_error: 'undefined' });
  });

  describe('Channel v2: buttons, files, edits, working indicator', () => {
    const buttons = [
      { id: 'yes K3F9', label: 'Approve' },
      { id: 'no K3F9', label: 'Deny' },
    ];
    const file = { name: 'plan.txt', mime: 'text/plain', bytes: Buffer.from('picnic') };

    it('hands buttons and files to a channel that shows them', async () => {
      const web = new FakeChannel('web');
      const outbox = new Outbox(store, log, { now });
      outbox.register(web);

      outbox.send(group.id, 'web', 'c', 'May I?', 'Andy', {
        actions: buttons,
        attachments: [file],
      });
      await outbox.flush();

      expect(web.sent[0]!.message).toEqual({
        text: 'May I?',
        actions: buttons,
        attachments: [file],
      });
    });

    it('turns them into text for a plain channel, keeping the stored text as written', async () => {
      const terminal = new FakeChannel('terminal', {
        edit: false,
        actions: false,
        attachments: false,
        typing: false,
      });
      const outbox = new Outbox(store, log, { now });
      outbox.register(terminal);

      const id = outbox.send(group.id, 'terminal', 'c', 'May I?', 'Andy', {
        actions: buttons,
        attachments: [file],
      });
      await outbox.flush();

      expect(terminal.sent[0]!.message).toEqual({
        text:
          'May I?\nTo answer, reply "yes K3F9" (Approve) or "no K3F9" (Deny).\n' +
          '[file not shown in this chat: plan.txt (text/plain, 6 B)]',
      });
      expect(store.messages.byId(id)?.text).toBe('May I?');
    });

    it('keeps buttons across a failed attempt until the message is delivered', async () => {
      const web = new FakeChannel('web');
      web.failures = [new Error('down')];
      const outbox = new Outbox(store, log, { now, baseDelayMs: 10 });
      outbox.register(web);

      outbox.send(group.id, 'web', 'c', 'May I?', 'Andy', { actions: buttons });
      await outbox.flush();
      clock = T0 + 10;
      await outbox.flush();

      expect(web.attempts).toBe(2);
      expect(web.sent.map((s) => s.message.actions)).toEqual([buttons]);
    });

    it('edits a delivered reply in place and stores the new text', async () => {
      const web = new FakeChannel('web');
      const outbox = new Outbox(store, log, { now });
      outbox.register(web);
      const id = outbox.send(group.id, 'web', 'c', 'Thinking', 'Andy');
      await outbox.flush();

      await expect(outbox.edit(id, 'Thinking... done')).resolves.toBe('edited');

      expect(web.edits).toEqual([{ chatId: 'c', id: web.sent[0]!.id, text: 'Thinking... done' }]);
      expect(store.messages.byId(id)?.text).toBe('Thinking... done');
    });

    it('only stores an edit when there is no live message to change', async () => {
      const terminal = new FakeChannel('terminal', { edit: false });
      const web = new FakeChannel('web');
      web.failures = [new Error('down')];
      const outbox = new Outbox(store, log, { now, baseDelayMs: 10 });
      outbox.register(terminal);
      outbox.register(web);
      const onTerminal = outbox.send(group.id, 'terminal', 'c', 'one', 'Andy');
      const undelivered = outbox.send(group.id, 'web', 'c', 'draft', 'Andy');
      await outbox.flush();

      await expect(outbox.edit(onTerminal, 'one, edited')).resolves.toBe('stored');
      await expect(outbox.edit(undelivered, 'final')).resolves.toBe('stored');
      clock = T0 + 10;
      await outbox.flush();

      expect(terminal.edits).toEqual([]);
      expect(delivered(web)).toEqual([{ chatId: 'c', text: 'final' }]);
    });

    it('shows a working indicator while a run works, renewed, and stops when it ends', async () => {
      const ticks: Array<{ fn: () => void; stopped: boolean }> = [];
      const web = new FakeChannel('web');
      const plain = new FakeChannel('terminal', { typing: false });
      const outbox = new Outbox(store, log, {
        now,
        repeat: (fn) => {
          const tick = { fn, stopped: false };
          ticks.push(tick);
          return () => void (tick.stopped = true);
        },
      });
      outbox.register(web);
      outbox.register(plain);
      let finish!: () => void;
      const run = new Promise<void>((resolve) => (finish = resolve));

      outbox.working('web', 'c', run);
      outbox.working('terminal', 'c', run);
      await web.nextTyping();
      ticks[0]!.fn();
      await web.nextTyping();
      finish();
      await run;

      expect(web.typings).toEqual(['c', 'c']);
      expect(ticks).toEqual([{ fn: expect.any(Function), stopped: true }]);
      expect(plain.typings).toEqual([]);
    });
  });
});
