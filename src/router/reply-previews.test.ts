import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeChannel } from '../../test/support/fake-channel.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import type { RunContext } from '../run/run.js';
import { Outbox } from './outbox.js';
import { PREVIEW_LIMIT_CHARS, ReplyPreviews } from './reply-previews.js';

const log = pino({ level: 'silent' });

describe('ReplyPreviews with the outbox', () => {
  let store: Store;
  let group: Group;
  let chat: FakeChannel;
  let previews: ReplyPreviews;
  let outbox: Outbox;
  let ctx: RunContext;

  const storeReply = (text: string): number =>
    store.messages.add({
      groupId: group.id,
      channel: 'chat',
      chatId: 'c1',
      direction: 'out',
      sender: 'assistant',
      senderName: 'Andy',
      text,
    }).id;

  beforeEach(() => {
    store = Store.open(':memory:');
    group = store.groups.create({ name: 'family', isAdmin: false });
    chat = new FakeChannel('chat');
    previews = new ReplyPreviews({
      channelFor: (name) => outbox.channelFor(name),
      streams: (name) => name !== 'web',
      log,
      minIntervalMs: 0,
    });
    outbox = new Outbox(store, log, { previews });
    outbox.register(chat);
    ctx = { group, channel: 'chat', chatId: 'c1' };
  });
  afterEach(() => store.close());

  it('shows the run as it goes, then edits the preview into the stored reply', async () => {
    previews.onEvent(ctx, { type: 'tool_start', id: 't1', name: 'bash' });
    const first = await chat.nextSent();
    expect(first.message.text).toBe('⚙ bash …');
    previews.onEvent(ctx, { type: 'tool_end', id: 't1', name: 'bash', isError: false });
    previews.onEvent(ctx, { type: 'text', text: 'Done: 42' });

    const id = storeReply('Done: 42');
    previews.adopt(group.id, id);
    await outbox.flush();

    expect(chat.sent).toHaveLength(1);
    expect(chat.edits.at(-1)).toEqual({ chatId: 'c1', id: first.id, text: 'Done: 42' });
    expect(store.messages.outboxPendingCount()).toBe(0);
  });

  it('continues a long reply in new messages, and sends as usual when the preview failed', async () => {
    previews.onEvent(ctx, { type: 'text', text: 'Working' });
    await chat.nextSent();
    const long = `${'a'.repeat(PREVIEW_LIMIT_CHARS)}\n${'b'.repeat(10)}`;
    const id = storeReply(long);
    previews.adopt(group.id, id);
    await outbox.flush();
    expect(chat.sent.map((s) => s.message.text)).toEqual(['Working', 'b'.repeat(10)]);
    expect(chat.edits.at(-1)?.text).toBe(`${'a'.repeat(PREVIEW_LIMIT_CHARS)}\n`);

    // A preview whose send failed: the stored reply is sent, not lost.
    chat.failures = [new Error('platform down')];
    previews.onEvent(ctx, { type: 'text', text: 'part' });
    const second = storeReply('whole');
    previews.adopt(group.id, second);
    await outbox.flush();
    expect(chat.sent.at(-1)?.message.text).toBe('whole');
  });

  it('streams nothing where the channel cannot edit or is not streamed, and ends unadopted previews', async () => {
    const web = new FakeChannel('web');
    const plain = new FakeChannel('plain', { edit: false });
    outbox.register(web);
    outbox.register(plain);
    previews.onEvent({ ...ctx, channel: 'web' }, { type: 'text', text: 'x' });
    previews.onEvent({ ...ctx, channel: 'plain' }, { type: 'text', text: 'x' });
    expect(web.sent).toHaveLength(0);
    expect(plain.sent).toHaveLength(0);

    previews.onEvent(ctx, { type: 'text', text: 'a run that fails' });
    previews.end(group.id);
    expect(previews.take(1)).toBeUndefined();
  });
});
