import { URL } from 'node:url';
import { clearTimeout, setTimeout } from 'node:timers';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * Server-sent events parser: feed it chunks as they arrive, get one call per complete event
 * (`event:` name, the `data:` lines joined). Comments (`: ...`) are dropped.
 */
export function createSseParser(onEvent) {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent({ event, data: data.join('\n') });
    }
  };
}

/** A client of the web chat API (the real host's, or the bare relay's): same routes. */
export class WebClient {
  /** @param {string} baseUrl e.g. http://127.0.0.1:PORT/ @param {string} token */
  constructor(baseUrl, token) {
    this.base = new URL(baseUrl);
    this.token = token;
    // Keep-alive: a turn's POST should not pay for a new TCP connection the host never sees.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    this.listeners = new Set();
    this.events = undefined;
  }

  /** Open GET /api/events; resolves once the stream is connected. */
  connect() {
    return new Promise((resolve, reject) => {
      const parse = createSseParser(({ event, data }) => {
        if (event !== 'message') return;
        const at = performance.now();
        let message;
        try {
          message = JSON.parse(data);
        } catch {
          return; // Not a chat message.
        }
        for (const fn of this.listeners) fn({ ...message, at });
      });
      const req = http.get(
        new URL('api/events', this.base),
        { headers: { authorization: `Bearer ${this.token}` } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET /api/events answered ${res.statusCode}`));
            res.resume();
            return;
          }
          res.setEncoding('utf8');
          res.on('data', parse);
          res.on('error', () => undefined);
          resolve(undefined);
        },
      );
      req.on('error', reject);
      this.events = req;
    });
  }

  /** Call `fn({chatId, text, at})` for each reply; returns the unsubscribe function. */
  onMessage(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** POST a message; resolves with the HTTP status once the host answered. */
  post(chat, text) {
    return this.request('POST', `api/chats/${encodeURIComponent(chat)}/messages`, { text }).then(
      (r) => r.status,
    );
  }

  async status() {
    const r = await this.request('GET', 'api/status');
    if (r.status !== 200) throw new Error(`GET /api/status answered ${r.status}: ${r.body}`);
    return JSON.parse(r.body);
  }

  request(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        new URL(path, this.base),
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(payload ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close() {
    this.events?.destroy();
    this.agent.destroy();
  }
}

export class TurnError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TurnError';
  }
}

/**
 * One turn: POST a message, then wait for the fake model's first request and for the reply
 * on the event stream. Times are from just before the POST. The reply must quote the tool's
 * output ("done: hi"): a turn that failed is an error, never a fast sample.
 */
export async function timeTurn(client, model, chat, options = {}) {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const expect = options.expect ?? 'done: hi';
  let t0 = 0;
  let unsubscribeModel = () => false;
  let unsubscribeReply = () => false;
  const firstRequest = new Promise((resolve) => {
    unsubscribeModel = model.onRequest((r) => {
      if (r.at >= t0 && r.path === '/v1/messages') {
        unsubscribeModel();
        resolve(r.at);
      }
    });
  });
  const reply = new Promise((resolve) => {
    unsubscribeReply = client.onMessage((m) => {
      if (m.chatId === chat) {
        unsubscribeReply();
        resolve(m);
      }
    });
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new TurnError(`no reply in chat ${chat} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    t0 = performance.now();
    const status = await client.post(chat, `bench turn ${Math.random().toString(36).slice(2)}`);
    if (status !== 202) throw new TurnError(`POST to chat ${chat} answered ${status}`);
    const [requestAt, message] = await Promise.race([Promise.all([firstRequest, reply]), timeout]);
    if (!String(message.text).startsWith(expect)) {
      throw new TurnError(
        `chat ${chat} got "${String(message.text).slice(0, 300)}", not "${expect}…"`,
      );
    }
    return { toModelMs: requestAt - t0, turnMs: message.at - t0 };
  } finally {
    clearTimeout(timer);
    unsubscribeModel();
    unsubscribeReply();
  }
}
