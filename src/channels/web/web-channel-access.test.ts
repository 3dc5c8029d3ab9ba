import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEvents, request } from '../../../test/support/web-client.js';
import type { InboundAction, InboundMessage, Receipt } from '../channel.js';
import { DASHBOARD_CSP } from './dashboard-files.js';
import { WebChannel } from './web-channel.js';

const OWNER = 'owner-token-0123456789';
const MEMBER = 'member-token-for-family';
const owner = { authorization: `Bearer ${OWNER}`, 'content-type': 'application/json' };
const member = { authorization: `Bearer ${MEMBER}`, 'content-type': 'application/json' };

describe('WebChannel credentials, receipts and files', () => {
  let channel: WebChannel;
  let port: number;
  let messages: InboundMessage[];
  let actions: InboundAction[];
  let receipt: Receipt;
  let memberValid: boolean;

  beforeEach(async () => {
    messages = [];
    actions = [];
    receipt = { status: 'stored', id: 41 };
    memberValid = true;
    channel = new WebChannel({
      port: 0,
      ownerToken: OWNER,
      memberLink: (token) =>
        token === MEMBER && memberValid ? { id: 'ab12', chatId: 'family' } : undefined,
      publicHosts: ['chat.example.org'],
      history: () => [],
    });
    await channel.start({
      onMessage: async (m) => {
        messages.push(m);
        return receipt;
      },
      onAction: async (a) => {
        actions.push(a);
        return receipt;
      },
    });
    port = Number(new URL(channel.url).port);
  });
  afterEach(() => channel.stop());

  const errorOf = (body: string) => (JSON.parse(body) as { error: string }).error;
  const post = (headers: Record<string, string>, path: string, body: unknown) =>
    request(port, 'POST', path, headers, JSON.stringify(body));

  it('answers 202 with the stored id, and 403 with the reason when refused', async () => {
    const stored = await post(owner, '/api/chats/family/messages', { text: 'hi' });
    receipt = { status: 'refused', reason: 'chat web:family is not bound to any group' };
    const refused = await post(owner, '/api/chats/family/messages', { text: 'hi again' });

    expect([stored.status, JSON.parse(stored.body)]).toEqual([202, { stored: true, id: 41 }]);
    expect([refused.status, JSON.parse(refused.body)]).toEqual([
      403,
      { stored: false, error: 'chat web:family is not bound to any group' },
    ]);
  });

  it('names a member by its link, whatever senderName it claims', async () => {
    await post(member, '/api/chats/family/messages', { text: 'hi' });
    await post(member, '/api/chats/family/messages', { text: 'hi', senderName: 'owner' });

    expect(messages.map((m) => [m.sender, m.senderName])).toEqual([
      ['web-link:ab12', 'guest'],
      ['web-link:ab12', 'owner'],
    ]);
  });

  it('sends a member the events of its chat only; the owner gets all', async () => {
    const mine = await openEvents(port, '/api/events', member);
    const all = await openEvents(port, `/api/events?token=${OWNER}`, {});
    await mine.connected;
    await all.connected;

    const sent = await channel.send('owner', {
      text: 'approve?',
      actions: [{ id: 'yes K', label: 'Approve' }],
    });
    await channel.edit('owner', sent, 'approve? (answered)');
    await channel.typing('school');
    await channel.send('family', { text: 'for the family' });

    expect((await mine.next('message')).data.text).toBe('for the family');
    await all.next('message', (d) => d.chatId === 'family');
    expect(mine.seen().map((e) => e.data.chatId)).toEqual(['family']);
    expect(all.seen().map((e) => `${e.event}:${String(e.data.chatId)}`)).toEqual([
      'message:owner',
      'edit:owner',
      'typing:school',
      'message:family',
    ]);
    mine.close();
    all.close();
  });

  it('ends the open event stream of a link revoked since it connected', async () => {
    const stream = await openEvents(port, '/api/events', member);
    await stream.connected;

    memberValid = false;
    await channel.send('family', { text: 'after the revocation' });

    await stream.ended;
    expect(stream.seen()).toEqual([]);
  });

  it('refuses more than 16 open event streams per token', async () => {
    const streams = await Promise.all(
      Array.from({ length: 16 }, () => openEvents(port, '/api/events', member)),
    );
    await Promise.all(streams.map((s) => s.connected));

    const extra = await request(port, 'GET', '/api/events', member);
    const ownerStream = await openEvents(port, '/api/events', owner);

    expect(extra.status).toBe(429);
    expect(errorOf(extra.body)).toContain('close one first');
    expect(ownerStream.status).toBe(200);
    for (const s of [...streams, ownerStream]) s.close();
  });

  it('closes an event stream that does not read instead of buffering without end', async () => {
    const text = 'x'.repeat(64 * 1024);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(
          { host: '127.0.0.1', port, path: '/api/events', headers: member, agent: false },
          resolve,
        )
        .on('error', reject);
    });
    res.pause();
    let received = 0;
    const ended = new Promise<void>((resolve) => {
      res.on('close', resolve);
      res.on('error', () => resolve());
    });
    for (let i = 0; i < 400; i++) await channel.send('family', { text });
    res.on('data', (chunk: Buffer) => (received += chunk.length));
    res.resume();

    await ended;
    expect(received).toBeLessThan(400 * text.length);
  });

  it('takes a click only on a button shown in that chat', async () => {
    await channel.send('owner', { text: 'approve?', actions: [{ id: 'yes K', label: 'Approve' }] });

    const elsewhere = await post(owner, '/api/chats/family/actions', { actionId: 'yes K' });
    const forged = await post(owner, '/api/chats/owner/actions', { actionId: 'yes Z' });
    const byMember = await post(member, '/api/chats/owner/actions', { actionId: 'yes K' });
    const real = await post(owner, '/api/chats/owner/actions', { actionId: 'yes K' });

    expect([elsewhere.status, forged.status, byMember.status, real.status]).toEqual([
      404, 404, 403, 202,
    ]);
    expect(actions).toEqual([
      {
        channel: 'web',
        chatId: 'owner',
        sender: 'web:owner',
        senderName: 'owner',
        actionId: 'yes K',
      },
    ]);
  });

  it('serves a file of a chat to that chat only, and never as a page of ours', async () => {
    const html = Buffer.from('<script>alert(1)</script>');
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    await channel.send('family', {
      text: 'files',
      attachments: [
        { name: 'x.html', mime: 'text/html', bytes: html },
        { name: 'p.png', mime: 'image/png', bytes: png },
      ],
    });

    const page = await request(port, 'GET', '/api/chats/family/files/w1-0', member);
    expect(page.bytes).toEqual(html);
    expect(page.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-disposition': "attachment; filename*=UTF-8''x.html",
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
    });
    const image = await request(port, 'GET', '/api/chats/family/files/w1-1', member);
    expect([image.headers['content-type'], image.headers['content-disposition']]).toEqual([
      'image/png',
      "inline; filename*=UTF-8''p.png",
    ]);
    expect((await request(port, 'GET', '/api/chats/school/files/w1-0', owner)).status).toBe(404);
    expect((await request(port, 'GET', '/api/chats/school/files/w1-0', member)).status).toBe(403);
  });

  it('serves its page so that no other site can frame it or read its address', async () => {
    const page = await request(port, 'GET', '/', {});

    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({
      'x-frame-options': 'DENY',
      'content-security-policy': DASHBOARD_CSP,
      'referrer-policy': 'no-referrer',
    });
  });

  it('answers to a configured public name, and takes writes from its origin', async () => {
    const res = await post(
      { ...owner, host: 'chat.example.org', origin: 'https://chat.example.org' },
      '/api/chats/family/messages',
      { text: 'from the public page' },
    );
    expect(res.status).toBe(202);
    const other = await request(port, 'GET', '/api/status', {
      ...owner,
      host: 'chat.example.org.evil',
    });
    expect(other.status).toBe(421);
  });
});
