import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../channel.js';
import { WebChannel, type WebMessage } from './web-channel.js';

const TOKEN = 'correct-horse-battery-staple';
const auth = { authorization: `Bearer ${TOKEN}` };

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain request on 127.0.0.1: the path is sent byte for byte, unlike fetch's URL parsing. */
function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection each time, so no request rides a pooled socket that
    // the server already closed.
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** An open /api/events stream, read as it arrives. */
interface EventStream {
  response: http.IncomingMessage;
  /** Resolves with everything received once it contains `text`. */
  until(text: string): Promise<string>;
  ended: Promise<void>;
  close(): void;
}

function openEvents(port: number, path = '/api/events'): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: auth, agent: false }, (res) => {
      let received = '';
      const waiters: Array<{ text: string; resolve: (s: string) => void }> = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        received += chunk;
        for (const w of [...waiters]) {
          if (!received.includes(w.text)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(received);
        }
      });
      const ended = new Promise<void>((done) => {
        res.on('end', done);
        res.on('close', done);
      });
      resolve({
        response: res,
        until: (text) =>
          received.includes(text)
            ? Promise.resolve(received)
            : new Promise((done) => waiters.push({ text, resolve: done })),
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

describe('WebChannel', () => {
  let channel: WebChannel;
  let port: number;
  let received: InboundMessage[];
  let onMessage: (message: InboundMessage) => Promise<void>;
  let historyCalls: Array<{ chatId: string; afterId: number }>;
  const historyAnswer: WebMessage[] = [
    { id: 7, direction: 'in', senderName: 'owner', text: 'hi', createdAt: '2026-03-01T10:00:00Z' },
  ];

  beforeEach(async () => {
    received = [];
    historyCalls = [];
    onMessage = async (m) => void received.push(m);
    channel = new WebChannel({
      port: 0,
      ownerToken: TOKEN,
      history: (chatId, afterId) => {
        historyCalls.push({ chatId, afterId });
        return historyAnswer;
      },
      status: () => ({ groups: 1 }),
    });
    // The handler indirection lets a test swap onMessage after start().
    await channel.start({
      onMessage: async (m) => {
        await onMessage(m);
        return { status: 'stored', id: received.length };
      },
      onAction: async () => ({ status: 'refused', reason: 'no actions here' }),
    });
    port = Number(new URL(channel.url).port);
  });
  afterEach(async () => {
    await channel.stop();
  });

  const post = (chat: string, body: string | Buffer, headers: Record<string, string> = auth) =>
    request(
      port,
      'POST',
      `/api/chats/${chat}/messages`,
      {
        'content-type': 'application/json',
        ...headers,
      },
      body,
    );

  it('listens on 127.0.0.1 only', () => {
    expect(channel.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(port).toBeGreaterThan(0);
  });

  describe('authorisation', () => {
    it.each<{ what: string; path: string; headers: Record<string, string> }>([
      { what: 'no token', path: '/api/chats/owner/messages', headers: {} },
      {
        what: 'a wrong bearer token',
        path: '/api/chats/owner/messages',
        headers: { authorization: 'Bearer wrong' },
      },
      {
        what: 'a bearer token of the right length but wrong',
        path: '/api/chats/owner/messages',
        headers: { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` },
      },
      { what: 'a wrong ?token=', path: '/api/chats/owner/messages?token=wrong', headers: {} },
      {
        what: 'a wrong bearer header even with a right ?token=',
        path: `/api/chats/owner/messages?token=${TOKEN}`,
        headers: { authorization: 'Bearer wrong' },
      },
      { what: 'no token, on /api/events', path: '/api/events', headers: {} },
      { what: 'no token, on /api/status', path: '/api/status', headers: {} },
    ])('answers 401 to $what', async ({ path, headers }) => {
      const res = await request(port, 'GET', path, headers);

      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual({
        error:
          'missing or wrong token: open the link nanocell printed, or send its token as a Bearer header',
      });
      expect(historyCalls).toEqual([]);
    });

    it('refuses a POST without a token and does not store it', async () => {
      const res = await post('owner', JSON.stringify({ text: 'hi' }), {});

      expect(res.status).toBe(401);
      expect(received).toEqual([]);
    });

    it.each([
      { what: 'a Bearer header', path: '/api/chats/owner/messages', headers: auth },
      {
        what: 'a ?token= parameter',
        path: `/api/chats/owner/messages?token=${TOKEN}`,
        headers: {},
      },
    ])('accepts the token as $what', async ({ path, headers }) => {
      const res = await request(port, 'GET', path, headers);

      expect(res.status).toBe(200);
      expect(historyCalls).toEqual([{ chatId: 'owner', afterId: 0 }]);
    });

    it('serves the HTML page at / without a token', async () => {
      const res = await request(port, 'GET', '/');

      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toMatch(/^<!doctype html>/i);
    });

    it('answers /api/status with the status document', async () => {
      const res = await request(port, 'GET', '/api/status', auth);

      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ groups: 1 });
    });
  });

  describe('POST /api/chats/:chat/messages', () => {
    it('hands the message to onMessage as channel web, with senderName owner by default', async () => {
      const res = await post('family_chat-1', JSON.stringify({ text: 'hello there' }));

      expect(res.status).toBe(202);
      expect(JSON.parse(res.body)).toEqual({ stored: true, id: 1 });
      expect(received).toEqual([
        {
          channel: 'web',
          chatId: 'family_chat-1',
          sender: 'web:owner',
          senderName: 'owner',
          text: 'hello there',
        },
      ]);
    });

    it('hands uploaded files in as media: images, voice notes and documents', async () => {
      const files = [
        { name: 'cat.png', type: 'image/png', data: Buffer.from('png bytes').toString('base64') },
        { name: 'v.ogg', type: 'audio/ogg', data: Buffer.from('ogg').toString('base64') },
        { name: 'a.pdf', type: 'application/pdf', data: Buffer.from('%PDF').toString('base64') },
      ];
      const res = await post('owner', JSON.stringify({ text: '', files }));

      expect(res.status).toBe(202);
      expect(received[0]?.text).toBe('');
      expect(received[0]?.media).toEqual([
        { kind: 'image', name: 'cat.png', mime: 'image/png', bytes: Buffer.from('png bytes') },
        { kind: 'voice', name: 'v.ogg', mime: 'audio/ogg', bytes: Buffer.from('ogg') },
        { kind: 'document', name: 'a.pdf', mime: 'application/pdf', bytes: Buffer.from('%PDF') },
      ]);
    });

    it.each([
      { what: 'files that are not a list', files: 'x', mention: '"files" must be a list' },
      { what: 'a file without a type', files: [{ name: 'a', data: 'AA==' }], mention: 'type' },
      {
        what: 'data that is not base64',
        files: [{ name: 'a', type: 'text/plain', data: '**' }],
        mention: 'base64',
      },
      {
        what: 'five files',
        files: Array.from({ length: 5 }, () => ({ name: 'a', type: 'text/plain', data: 'AA==' })),
        mention: 'at most 4 files',
      },
    ])('answers 400 to $what and stores nothing', async (row) => {
      const res = await post('owner', JSON.stringify({ text: 'x', files: row.files }));

      expect(res.status).toBe(400);
      expect((JSON.parse(res.body) as { error: string }).error).toContain(row.mention);
      expect(received).toEqual([]);
    });

    it('passes a given senderName through', async () => {
      const res = await post('owner', JSON.stringify({ text: 'hi', senderName: 'Ana' }));

      expect(res.status).toBe(202);
      expect(received[0]).toMatchObject({ senderName: 'Ana', sender: 'web:Ana' });
    });

    it('answers 202 only after onMessage has resolved', async () => {
      let store!: () => void;
      let entered!: () => void;
      const called = new Promise<void>((resolve) => (entered = resolve));
      onMessage = (m) =>
        new Promise<void>((resolve) => {
          received.push(m);
          store = resolve;
          entered();
        });
      let answered = false;
      const pending = post('owner', JSON.stringify({ text: 'hi' })).then((res) => {
        answered = true;
        return res;
      });

      await called;
      // A full round trip on another connection: the server has had every chance to answer.
      expect((await request(port, 'GET', '/api/status', auth)).status).toBe(200);
      expect(answered).toBe(false);

      store();
      const res = await pending;
      expect(res.status).toBe(202);
    });

    it('does not answer 202 when onMessage rejects', async () => {
      onMessage = async () => {
        throw new Error('database is locked');
      };

      const res = await post('owner', JSON.stringify({ text: 'hi' }));

      expect(res.status).toBe(500);
      expect(res.body).not.toContain('stored');
    });

    it.each([
      { what: 'a body that is not JSON', body: 'hello', status: 400, mention: 'JSON' },
      { what: 'a JSON string', body: '"hello"', status: 400, mention: '"text"' },
      { what: 'JSON null', body: 'null', status: 400, mention: '"text"' },
      { what: 'no text field', body: '{"senderName":"Ana"}', status: 400, mention: '"text"' },
      { what: 'an empty text', body: '{"text":""}', status: 400, mention: '"text"' },
      { what: 'a blank text', body: '{"text":"   "}', status: 400, mention: '"text"' },
      { what: 'a non-string text', body: '{"text":42}', status: 400, mention: '"text"' },
      {
        what: 'a non-string senderName',
        body: '{"text":"hi","senderName":5}',
        status: 400,
        mention: '"senderName"',
      },
      {
        what: 'a senderName over 64 characters',
        body: JSON.stringify({ text: 'hi', senderName: 'a'.repeat(65) }),
        status: 400,
        mention: '"senderName"',
      },
      {
        what: 'a body over 64 KB',
        body: JSON.stringify({ text: 'a'.repeat(64 * 1024 + 1) }),
        status: 413,
        mention: '65536 bytes',
      },
    ])('answers $status to $what, says what is wrong, and stores nothing', async (row) => {
      const res = await post('owner', row.body);

      expect(res.status).toBe(row.status);
      const { error } = JSON.parse(res.body) as { error: string };
      expect(error).toContain(row.mention);
      expect(received).toEqual([]);
    });

    it('answers 413 to a body over the upload limit instead of resetting the connection', async () => {
      const res = await post('owner', Buffer.alloc(40 * 1024 * 1024, 0x61));

      expect(res.status).toBe(413);
      expect((JSON.parse(res.body) as { error: string }).error).toContain('bytes');
      expect(received).toEqual([]);
    });

    it.each([
      { what: 'a space', chat: 'bad%20id' },
      { what: 'a non-ASCII letter', chat: '%C3%A4' },
      { what: 'over 64 characters', chat: 'a'.repeat(65) },
      { what: 'a slash, encoded', chat: 'a%2Fb' },
    ])('answers 400 to a chat id with $what and stores nothing', async ({ chat }) => {
      const res = await post(chat, JSON.stringify({ text: 'hi' }));

      expect(res.status).toBe(400);
      expect((JSON.parse(res.body) as { error: string }).error).toMatch(/^chat id: /);
      expect(received).toEqual([]);
    });

    it('answers 400 (not 500) to a chat id with malformed percent-encoding', async () => {
      // BUG (web-channel.ts handle): decodeURIComponent('%E0%A4%A') throws URIError, which the
      // request's catch turns into a 500 with the URIError text. A malformed id is the
      // client's mistake: catch it and answer 400 "chat id: ...".
      const res = await post('%E0%A4%A', JSON.stringify({ text: 'hi' }));

      expect(res.status).toBe(400);
      expect(received).toEqual([]);
    });
  });

  describe('GET /api/chats/:chat/messages', () => {
    it.each([
      { query: '', afterId: 0 },
      { query: '?after=0', afterId: 0 },
      { query: '?after=42', afterId: 42 },
    ])('passes after=$afterId to history for "$query"', async ({ query, afterId }) => {
      const res = await request(port, 'GET', `/api/chats/family/messages${query}`, auth);

      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ messages: historyAnswer });
      expect(historyCalls).toEqual([{ chatId: 'family', afterId }]);
    });

    it.each([{ after: '-1' }, { after: 'abc' }, { after: '1.5' }])(
      'answers 400 to after=$after, naming the parameter',
      async ({ after }) => {
        const res = await request(port, 'GET', `/api/chats/family/messages?after=${after}`, auth);

        expect(res.status).toBe(400);
        expect((JSON.parse(res.body) as { error: string }).error).toMatch(/^after: /);
        expect(historyCalls).toEqual([]);
      },
    );

    it('answers 405 to another method', async () => {
      const res = await request(port, 'DELETE', '/api/chats/family/messages', auth);

      expect(res.status).toBe(405);
    });

    it('answers 404 to an unknown path', async () => {
      const res = await request(port, 'GET', '/api/nothing', auth);

      expect(res.status).toBe(404);
    });
  });

  describe('events and stop', () => {
    it('emits a message event to every /api/events subscriber on send()', async () => {
      const a = await openEvents(port);
      const b = await openEvents(port, `/api/events?token=${TOKEN}`);
      await a.until(': connected');
      await b.until(': connected');

      await channel.send('family', { text: 'dinner at 7' });

      const expected = `event: message\ndata: ${JSON.stringify({ chatId: 'family', id: 'w1', text: 'dinner at 7' })}\n\n`;
      expect(await a.until('dinner at 7')).toContain(expected);
      expect(await b.until('dinner at 7')).toContain(expected);
      expect(a.response.headers['content-type']).toBe('text/event-stream');
      a.close();
      b.close();
    });

    it('stops sending to a subscriber that disconnected', async () => {
      const a = await openEvents(port);
      await a.until(': connected');
      a.close();
      await a.ended;
      // A round trip lets the server see the close before send().
      await request(port, 'GET', '/api/status', auth);

      await expect(channel.send('family', { text: 'after close' })).resolves.toEqual({ id: 'w1' });
    });

    it('stop() ends an open event stream and closes the server promptly', async () => {
      const events = await openEvents(port);
      await events.until(': connected');
      const startedAt = Date.now();

      await channel.stop();
      await events.ended;

      expect(Date.now() - startedAt).toBeLessThan(1000);
      await expect(request(port, 'GET', '/')).rejects.toThrow(/ECONNREFUSED/);
    });
  });
});
