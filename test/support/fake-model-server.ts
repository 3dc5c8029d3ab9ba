import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PromptCache, type CacheUsage } from './prompt-cache.mjs';

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export type StopReason =
  'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'pause_turn' | 'refusal';

/** Loosely typed so tests can dig into recorded bodies without casts. */
export interface RequestBody {
  model?: string;
  system?: string | Array<{ type: string; text: string; [k: string]: unknown }>;
  messages?: Array<{
    role: string;
    content: string | Array<{ type: string; [k: string]: unknown }>;
  }>;
  tools?: Array<{
    name: string;
    description?: string;
    input_schema?: unknown;
    [k: string]: unknown;
  }>;
  stream?: boolean;
  max_tokens?: number;
  [k: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: RequestBody | undefined;
  receivedAt: number;
}

const newId = (prefix: string): string => prefix + randomBytes(12).toString('hex');

interface UsageOverride {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

export class ReplyBuilder {
  readonly kind = 'reply' as const;
  readonly blocks: ContentBlock[] = [];
  private stopOverride: StopReason | undefined;
  private usageOverride: UsageOverride = {};

  text(text: string): this {
    this.blocks.push({ type: 'text', text });
    return this;
  }

  tool(name: string, input: Record<string, unknown>, opts: { id?: string } = {}): this {
    this.blocks.push({ type: 'tool_use', id: opts.id ?? newId('toolu_'), name, input });
    return this;
  }

  /** Override the derived stop_reason (e.g. 'max_tokens'). */
  stop(reason: StopReason): this {
    this.stopOverride = reason;
    return this;
  }

  /** Override the estimated token counts (and the prompt cache's, when given). */
  usage(usage: UsageOverride): this {
    this.usageOverride = { ...this.usageOverride, ...usage };
    return this;
  }

  get stopReason(): StopReason {
    return (
      this.stopOverride ??
      (this.blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn')
    );
  }

  /** `cached`: the prompt cache's count for a request that marked cache breakpoints. */
  toMessage(req: RecordedRequest, cached?: CacheUsage) {
    const estimate = (v: unknown): number =>
      Math.max(1, Math.ceil(JSON.stringify(v ?? '').length / 4));
    return {
      id: newId('msg_'),
      type: 'message' as const,
      role: 'assistant' as const,
      model: typeof req.body?.model === 'string' ? req.body.model : 'fake-model',
      content: this.blocks.map((b) => ({ ...b })),
      stop_reason: this.stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: this.usageOverride.input_tokens ?? cached?.input_tokens ?? estimate(req.body),
        output_tokens: this.usageOverride.output_tokens ?? estimate(this.blocks),
        ...(cached && this.usageOverride.input_tokens === undefined
          ? {
              cache_read_input_tokens: cached.cache_read_input_tokens,
              cache_creation_input_tokens: cached.cache_creation_input_tokens,
            }
          : {}),
        ...(this.usageOverride.cache_read_input_tokens !== undefined
          ? { cache_read_input_tokens: this.usageOverride.cache_read_input_tokens }
          : {}),
        ...(this.usageOverride.cache_creation_input_tokens !== undefined
          ? { cache_creation_input_tokens: this.usageOverride.cache_creation_input_tokens }
          : {}),
      },
    };
  }
}

export interface HttpErrorStep {
  kind: 'http-error';
  status: number;
  message?: string;
  headers?: Record<string, string>;
}
export interface HangStep {
  kind: 'hang';
}
/** Starts streaming `text` as one delta, then sends nothing more and never ends. */
export interface StallStep {
  kind: 'stall';
  text: string;
}
/** Streams `text`, then a chunk whose data is not JSON, then ends. */
export interface MalformedStep {
  kind: 'malformed';
  text: string;
}
export type ScriptStep = ReplyBuilder | HttpErrorStep | HangStep | StallStep | MalformedStep;
export type ScriptItem = ScriptStep | ((req: RecordedRequest) => ScriptStep);

export const reply = (): ReplyBuilder => new ReplyBuilder();
export const httpError = (
  status: number,
  opts: { message?: string; headers?: Record<string, string> } = {},
): HttpErrorStep => ({
  kind: 'http-error',
  status,
  ...opts,
});
export const hang = (): HangStep => ({ kind: 'hang' });
export const stall = (text = 'Let me think'): StallStep => ({ kind: 'stall', text });
export const malformed = (text = 'Half an'): MalformedStep => ({ kind: 'malformed', text });

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};
const errorType = (status: number): string =>
  ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');

export interface FakeModelServer {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order, including those answered with errors. */
  readonly requests: readonly RecordedRequest[];
  /** Number of script items not yet consumed. */
  readonly pending: number;
  enqueue(...items: ScriptItem[]): void;
  /** Replaces whatever is still pending with `items`. */
  script(items: ScriptItem[]): void;
  /** Requires `x-api-key: key` or `authorization: Bearer key`; `undefined` turns the check off again. */
  requireApiKey(key: string | undefined): void;
  /** Forgets recorded requests and pending script items. */
  reset(): void;
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

interface Waiter {
  n: number;
  resolve: (reqs: RecordedRequest[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Splits into `n` roughly equal pieces (fewer only if the string is shorter than `n`). */
function split(s: string, n: number): string[] {
  if (s.length === 0) return [''];
  const size = Math.ceil(s.length / n);
  const pieces: string[] = [];
  for (let i = 0; i < s.length; i += size) pieces.push(s.slice(i, i + size));
  return pieces;
}

let requestCounter = 0;

const MODEL = {
  id: 'fake-model',
  type: 'model',
  display_name: 'Fake model',
  created_at: '2025-01-01T00:00:00Z',
};
const MODELS_PAGE = { data: [MODEL], has_more: false, first_id: MODEL.id, last_id: MODEL.id };

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'request-id': `req_fake_${++requestCounter}`,
    ...headers,
  });
  res.end(JSON.stringify(body));
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const hasRetryHint = Object.keys(headers).some((h) => /^retry-after(-ms)?$/i.test(h));
  // The SDK honours retry-after-ms, which keeps retry tests fast instead of waiting for its backoff.
  const defaults: Record<string, string> =
    (status === 429 || status >= 500) && !hasRetryHint ? { 'retry-after-ms': '1' } : {};
  sendJson(
    res,
    status,
    { type: 'error', error: { type: errorType(status), message } },
    { ...defaults, ...headers },
  );
}

type SendEvent = (event: string, data: Record<string, unknown>) => void;

function openStream(res: ServerResponse): SendEvent {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'request-id': `req_fake_${++requestCounter}`,
  });
  return (event, data) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  };
}

/** The start of a text reply: message_start and one text delta. */
function startBrokenStream(res: ServerResponse, req: RecordedRequest, text: string): void {
  const msg = reply().text(text).toMessage(req);
  const send = openStream(res);
  send('message_start', {
    message: { ...msg, content: [], stop_reason: null, stop_sequence: null },
  });
  send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  send('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
}

function sendStream(res: ServerResponse, msg: ReturnType<ReplyBuilder['toMessage']>): void {
  const send = openStream(res);
  send('message_start', {
    message: {
      ...msg,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...msg.usage, output_tokens: 1 },
    },
  });
  msg.content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const text of split(block.text, 3))
        send('content_block_delta', { index, delta: { type: 'text_delta', text } });
    } else {
      send('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      // Serialized JSON is at least "{}", so this always yields >= 2 partial chunks, like the real API.
      for (const partial_json of split(JSON.stringify(block.input), 3)) {
        send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
      }
    }
    send('content_block_stop', { index });
  });
  send('message_delta', {
    delta: { stop_reason: msg.stop_reason, stop_sequence: null },
    usage: { output_tokens: msg.usage.output_tokens },
  });
  send('message_stop', {});
  res.end();
}

/**
 * `minCacheTokens`: the shortest prefix the prompt cache keeps (see prompt-cache.mjs). A request
 * that marks `cache_control` is answered with cache_read/cache_creation tokens the way the real
 * API counts them; one without marks pays every prompt token as input.
 */
export async function startFakeModelServer(
  opts: { port?: number; minCacheTokens?: number } = {},
): Promise<FakeModelServer> {
  const requests: RecordedRequest[] = [];
  const cache = new PromptCache({ minTokens: opts.minCacheTokens ?? 0 });
  const queue: ScriptItem[] = [];
  const waiters = new Set<Waiter>();
  const sockets = new Set<Socket>();
  let apiKey: string | undefined;
  let closed: Promise<void> | undefined;

  const record = (rec: RecordedRequest): void => {
    requests.push(rec);
    for (const w of waiters) {
      if (requests.length < w.n) continue;
      clearTimeout(w.timer);
      waiters.delete(w);
      w.resolve([...requests]);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: RequestBody | undefined;
    try {
      const parsed: unknown = raw ? JSON.parse(raw) : undefined;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        body = parsed as RequestBody;
    } catch {
      body = undefined;
    }
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const rec: RecordedRequest = {
      method,
      path,
      headers: flattenHeaders(req.headers),
      body,
      receivedAt: Date.now(),
    };
    record(rec);

    // Newer SDKs send the key as `Authorization: Bearer <key>` rather than `x-api-key`; accept both.
    if (
      apiKey !== undefined &&
      rec.headers['x-api-key'] !== apiKey &&
      rec.headers['authorization'] !== `Bearer ${apiKey}`
    ) {
      return sendError(res, 401, 'fake model server: invalid API key');
    }
    if (method === 'GET' && path === '/v1/models') return sendJson(res, 200, MODELS_PAGE);
    if (method === 'POST' && path === '/v1/messages/count_tokens') {
      return sendJson(res, 200, { input_tokens: Math.max(1, Math.ceil(raw.length / 4)) });
    }
    if (method !== 'POST' || path !== '/v1/messages') {
      return sendError(res, 404, `fake model server: no route for ${method} ${path}`);
    }
    if (!body) return sendError(res, 400, 'fake model server: request body is not a JSON object');

    const item = queue.shift();
    // x-should-retry: false stops the SDK from retrying, so the failure surfaces on the first attempt.
    const noRetry = { 'x-should-retry': 'false' };
    if (!item) return sendError(res, 500, 'fake model server: script exhausted', noRetry);
    const step = typeof item === 'function' ? item(rec) : item;
    if (step.kind === 'hang') return;
    if (step.kind === 'stall') return startBrokenStream(res, rec, step.text);
    if (step.kind === 'malformed') {
      startBrokenStream(res, rec, step.text);
      res.end('event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n');
      return;
    }
    if (step.kind === 'http-error') {
      const message = step.message ?? `fake model server: scripted HTTP ${step.status}`;
      return sendError(res, step.status, message, step.headers);
    }
    const cached = cache.account(body);
    const marked = raw.includes('"cache_control"');
    const msg = step.toMessage(rec, marked ? cached : undefined);
    if (body.stream === true) sendStream(res, msg);
    else sendJson(res, 200, msg);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const message = `fake model server: ${err instanceof Error ? err.message : String(err)}`;
      sendError(res, 500, message, { 'x-should-retry': 'false' });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get pending() {
      return queue.length;
    },
    enqueue: (...items) => void queue.push(...items),
    script: (items) => void queue.splice(0, queue.length, ...items),
    requireApiKey: (key) => void (apiKey = key),
    reset: () => {
      requests.length = 0;
      cache.clear();
      queue.length = 0;
    },
    waitForRequests(n, timeoutMs = 5000) {
      if (requests.length >= n) return Promise.resolve([...requests]);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          n,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            const seen = requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none';
            reject(
              new Error(
                `fake model server: timed out after ${timeoutMs}ms waiting for ${n} request(s); got ${requests.length} (${seen})`,
              ),
            );
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const w of waiters) {
          clearTimeout(w.timer);
          w.reject(new Error(`fake model server: closed while waiting for ${w.n} request(s)`));
        }
        waiters.clear();
        server.close(() => resolve());
        // Hung requests keep their sockets open forever; server.close() alone would wait for them.
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
