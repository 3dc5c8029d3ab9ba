import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Channel, InboundMessage } from '../channel.js';
import { WEB_PAGE } from './page.js';

export interface WebMessage {
  id: number;
  direction: 'in' | 'out';
  senderName: string;
  text: string;
  createdAt: string;
}

export interface WebChannelOptions {
  /** 0 picks a free port. Always bound to 127.0.0.1. */
  port: number;
  /** Bearer token every request must carry (header or ?token=). */
  token: string;
  /** Messages of a chat after `afterId` that the page may show (inbound, and delivered replies). */
  history: (chatId: string, afterId: number) => WebMessage[];
  /** Status document for GET /api/status. */
  status?: () => unknown;
}

const MAX_BODY_BYTES = 64 * 1024;
const CHAT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The local web chat: a page and a small JSON API on 127.0.0.1, guarded by a token.
 *   POST /api/chats/:chat/messages {text, senderName?}  → 202 once the message is stored
 *   GET  /api/chats/:chat/messages?after=ID             → messages after ID
 *   GET  /api/events                                    → server-sent "message" events
 */
export class WebChannel implements Channel {
  readonly name = 'web';
  private server: http.Server | undefined;
  private readonly listeners = new Set<http.ServerResponse>();
  private port = 0;

  constructor(private readonly options: WebChannelOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async start(onMessage: (message: InboundMessage) => Promise<void>): Promise<void> {
    const server = http.createServer((req, res) => {
      this.handle(req, res, onMessage).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: (err as Error).message });
        else res.end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  async send(chatId: string, text: string): Promise<void> {
    const event = `event: message\ndata: ${JSON.stringify({ chatId, text })}\n\n`;
    for (const res of this.listeners) res.write(event);
  }

  async stop(): Promise<void> {
    for (const res of this.listeners) res.end();
    this.listeners.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private authorised(req: http.IncomingMessage, url: URL): boolean {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ')
      ? header.slice(7)
      : (url.searchParams.get('token') ?? '');
    const a = Buffer.from(given);
    const b = Buffer.from(this.options.token);
    return a.length === b.length && crypto.timingSafeEqual(a, b);
  }

  private async handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    onMessage: (message: InboundMessage) => Promise<void>,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(WEB_PAGE);
      return;
    }
    if (!this.authorised(req, url)) return json(res, 401, { error: 'missing or wrong token' });
    if (req.method === 'GET' && url.pathname === '/api/status') {
      return json(res, 200, this.options.status?.() ?? {});
    }
    if (req.method === 'GET' && url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': connected\n\n');
      this.listeners.add(res);
      req.on('close', () => this.listeners.delete(res));
      return;
    }
    const match = /^\/api\/chats\/([^/]+)\/messages$/.exec(url.pathname);
    if (!match) return json(res, 404, { error: 'not found' });
    let chatId = '';
    try {
      chatId = decodeURIComponent(match[1]!);
    } catch {
      // Broken percent-encoding: answered as a bad chat id below.
    }
    if (!CHAT_ID.test(chatId)) {
      return json(res, 400, { error: 'chat id: use 1-64 letters, digits, - or _' });
    }
    if (req.method === 'GET') {
      const after = Number(url.searchParams.get('after') ?? '0');
      if (!Number.isInteger(after) || after < 0) {
        return json(res, 400, { error: 'after: a message id (a whole number >= 0)' });
      }
      return json(res, 200, { messages: this.options.history(chatId, after) });
    }
    if (req.method !== 'POST') return json(res, 405, { error: 'use GET or POST' });
    const body = await readBody(req);
    if (!body.ok) return json(res, body.status, { error: body.error });
    const parsed = parseMessage(body.text);
    if (!parsed.ok) return json(res, 400, { error: parsed.error });
    await onMessage({
      channel: this.name,
      chatId,
      sender: `web:${parsed.senderName}`,
      senderName: parsed.senderName,
      text: parsed.text,
    });
    return json(res, 202, { stored: true });
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(
  req: http.IncomingMessage,
): Promise<{ ok: true; text: string } | { ok: false; status: number; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      return { ok: false, status: 413, error: `message body over ${MAX_BODY_BYTES} bytes` };
    }
    chunks.push(chunk);
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}

/** A malformed message gets an answer saying what is wrong; nothing is stored. */
export function parseMessage(
  raw: string,
): { ok: true; text: string; senderName: string } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'body must be JSON like {"text": "hello", "senderName": "Ana"}' };
  }
  if (typeof value !== 'object' || value === null) {
    return { ok: false, error: 'body must be a JSON object with a "text" field' };
  }
  const { text, senderName } = value as Record<string, unknown>;
  if (typeof text !== 'string' || text.trim() === '') {
    return { ok: false, error: '"text" must be a non-empty string' };
  }
  if (senderName !== undefined && (typeof senderName !== 'string' || senderName.length > 64)) {
    return { ok: false, error: '"senderName" must be a string of at most 64 characters' };
  }
  return { ok: true, text, senderName: (senderName as string | undefined)?.trim() || 'owner' };
}
