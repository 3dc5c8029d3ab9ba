import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../../test/support/web-client.js';
import { Store } from '../../store/store.js';
import { dashboardChats } from '../../owner/dashboard-chats.js';
import { WebChannel } from './web-channel.js';

const OWNER = 'owner-token-0123456789';
const MEMBER = 'member-token-for-family';

/** Issue 13: the owner reads every chat of every group, platform chats too, and nobody else. */
describe('WebChannel all-chats routes', () => {
  let channel: WebChannel;
  let port: number;
  let store: Store;
  beforeAll(async () => {
    store = Store.open(':memory:');
    const family = store.groups.create({ name: 'family', isAdmin: false });
    store.groups.bindChat('telegram', '-100200', family.id);
    store.groups.bindChat('web', 'family', family.id);
    for (const text of ['first', 'second', 'third']) {
      store.messages.add({
        groupId: family.id,
        channel: 'telegram',
        chatId: '-100200',
        direction: 'in',
        sender: 'tg:1',
        senderName: 'Ann',
        text,
      });
    }
    channel = new WebChannel({
      port: 0,
      ownerToken: OWNER,
      memberLink: (token) => (token === MEMBER ? { id: 'ab12', chatId: 'family' } : undefined),
      history: () => [],
      ownerChats: dashboardChats(store),
    });
    await channel.start({
      onMessage: async () => ({ status: 'stored', id: 1 }),
      onAction: async () => ({ status: 'stored', id: 1 }),
    });
    port = Number(new URL(channel.url).port);
  });
  afterAll(async () => {
    await channel.stop();
    store.close();
  });
  const get = (path: string, token = OWNER) =>
    request(port, 'GET', path, { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` });

  it('lists every bound chat with its group, the one with messages first', async () => {
    const res = await get('/api/conversations');
    expect(res.status).toBe(200);
    const { conversations } = JSON.parse(res.body) as {
      conversations: Array<{ channel: string; chatId: string; group: string }>;
    };
    expect(conversations.map((c) => `${c.group} ${c.channel}:${c.chatId}`)).toEqual([
      'family telegram:-100200',
      'family web:family',
    ]);
  });

  it("gives a platform chat's messages in order, and only those after the last seen", async () => {
    const all = JSON.parse(
      (await get('/api/conversations/messages?channel=telegram&chat=-100200')).body,
    ) as { messages: Array<{ id: number; text: string }> };
    expect(all.messages.map((m) => m.text)).toEqual(['first', 'second', 'third']);
    const after = all.messages[0]!.id;
    const newer = JSON.parse(
      (await get(`/api/conversations/messages?channel=telegram&chat=-100200&after=${after}`)).body,
    ) as { messages: Array<{ text: string }> };
    expect(newer.messages.map((m) => m.text)).toEqual(['second', 'third']);
  });

  it('refuses a member link, a chat bound to no group and a malformed query, saying why', async () => {
    expect((await get('/api/conversations', MEMBER)).status).toBe(403);
    const unbound = await get('/api/conversations/messages?channel=telegram&chat=999');
    expect(unbound.status).toBe(404);
    expect(unbound.body).toContain('bound to no group');
    const bad = await get('/api/conversations/messages?channel=Tele%20gram&chat=1&after=-1');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('channel');
    expect(bad.body).toContain('after');
  });
});
