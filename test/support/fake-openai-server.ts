import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type {
  FakeModelServer,
  RecordedRequest,
  ReplyBuilder,
  RequestBody,
  ScriptItem,
} from './fake-model-server.js';

/**
 * A scripted OpenAI-compatible server (Chat Completions) on 127.0.0.1, driven by the same
 * script steps as the fake Anthropic server (`reply().text(...)`, `reply().tool(...)`,
 * `httpError`, `hang`, `stall`, `malformed`), so one contract suite runs against both.
 * `url` ends in `/v1`, as OPENAI_BASE_URL does for Ollama, vLLM and LM Studio.
 */
export interface FakeOpenAIServer extends FakeModelServer {
  /** Whether GET /v1/models answers (some local servers have no models endpoint). */
  modelsEndpoint(enabled: boolean): void;
}

interface Waiter {
  n: number;
  resolve: (reqs: RecordedRequest[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const newId = (prefix: string): string => prefix + randomBytes(12).toString('hex');

/** Splits into `n` roughly equal pieces (fewer only if the string is shorter than `n`). */
function split(s: string, n: number): string[] {
  if (s.length === 0) return [''];
  const size = Math.ceil(s.length / n);
  const pieces: string[] = [];
  for (let i = 0; i < s.length; i += size) pieces.push(s.slice(i, i + size));
  return pieces;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
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
  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(
    res,
    status,
    { error: { message, type, param: null, code: null } },
    { ...defaults, ...headers },
  );
}

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  stop_sequence: 'stop',
};

interface Completion {
  id: string;
  model: string;
  created: number;
  text: string;
  calls: Array<{ id: string; name: string; arguments: string }>;
  finish: string;
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details?: { cached_tokens: number };
  };
}

function toCompletion(step: ReplyBuilder, req: RecordedRequest): Completion {
  const message = step.toMessage(req);
  const text = step.blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
  const calls = step.blocks.flatMap((b) =>
    b.type === 'tool_use' ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input) }] : [],
  );
  const { input_tokens, output_tokens } = message.usage;
  // OpenAI counts cached prompt tokens inside prompt_tokens, and never reports cache writes.
  const cached = (message.usage as { cache_read_input_tokens?: number }).cache_read_input_tokens;
  const prompt = input_tokens + (cached ?? 0);
  return {
    id: newId('chatcmpl-'),
    model: message.model,
    created: Math.floor(Date.now() / 1000),
    text,
    calls,
    finish: FINISH[step.stopReason] ?? 'stop',
    usage: {
      prompt_tokens: prompt,
      completion_tokens: output_tokens,
      total_tokens: prompt + output_tokens,
      ...(cached !== undefined ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
    },
  };
}

function completionJson(c: Completion) {
  return {
    id: c.id,
    object: 'chat.completion',
    created: c.created,
    model: c.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: c.text === '' && c.calls.length > 0 ? null : c.text,
          ...(c.calls.length > 0
            ? {
                tool_calls: c.calls.map((call) => ({
                  id: call.id,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        finish_reason: c.finish,
      },
    ],
    usage: c.usage,
  };
}

type SendChunk = (choice: Record<string, unknown> | undefined, extra?: object) => void;

function openStream(res: ServerResponse, c: Pick<Completion, 'id' | 'model' | 'created'>) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send: SendChunk = (choice, extra = {}) => {
    const chunk = {
      id: c.id,
      object: 'chat.completion.chunk',
      created: c.created,
      model: c.model,
      choices: choice ? [{ index: 0, logprobs: null, finish_reason: null, ...choice }] : [],
      ...extra,
    };
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  return send;
}

/**
 * Text in three deltas; each tool call's id and name in its first chunk and its arguments
 * split in three more (cut anywhere, as real servers do); the finish reason; then, when
 * asked for with stream_options.include_usage, a last chunk with no choices and the usage.
 */
function sendStream(res: ServerResponse, c: Completion, includeUsage: boolean): void {
  const send = openStream(res, c);
  send({ delta: { role: 'assistant', content: '' } });
  if (c.text !== '') for (const content of split(c.text, 3)) send({ delta: { content } });
  c.calls.forEach((call, index) => {
    send({
      delta: {
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      },
    });
    for (const piece of split(call.arguments, 3)) {
      send({ delta: { tool_calls: [{ index, function: { arguments: piece } }] } });
    }
  });
  send({ delta: {}, finish_reason: c.finish });
  if (includeUsage) send(undefined, { usage: c.usage });
  res.end('data: [DONE]\n\n');
}

function startBrokenStream(res: ServerResponse, text: string): void {
  const send = openStream(res, {
    id: newId('chatcmpl-'),
    model: 'fake-model',
    created: Math.floor(Date.now() / 1000),
  });
  send({ delta: { role: 'assistant', content: '' } });
  send({ delta: { content: text } });
}

export async function startFakeOpenAIServer(
  opts: { port?: number } = {},
): Promise<FakeOpenAIServer> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptItem[] = [];
  const waiters = new Set<Waiter>();
  const sockets = new Set<Socket>();
  let apiKey: string | undefined;
  let models = true;
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
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        body = parsed as RequestBody;
      }
    } catch {
      body = undefined;
    }
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const rec: RecordedRequest = { method, path, headers, body, receivedAt: Date.now() };
    record(rec);

    if (apiKey !== undefined && headers['authorization'] !== `Bearer ${apiKey}`) {
      return sendError(res, 401, 'fake openai server: Incorrect API key provided');
    }
    if (method === 'GET' && path === '/v1/models' && models) {
      return sendJson(res, 200, {
        object: 'list',
        data: [{ id: 'fake-model', object: 'model', created: 1735689600, owned_by: 'fake' }],
      });
    }
    if (method !== 'POST' || path !== '/v1/chat/completions') {
      return sendError(res, 404, `fake openai server: no route for ${method} ${path}`);
    }
    if (!body) return sendError(res, 400, 'fake openai server: request body is not JSON');

    const item = queue.shift();
    // x-should-retry: false stops the SDK from retrying, so the failure surfaces at once.
    const noRetry = { 'x-should-retry': 'false' };
    if (!item) return sendError(res, 500, 'fake openai server: script exhausted', noRetry);
    const step = typeof item === 'function' ? item(rec) : item;
    if (step.kind === 'hang') return;
    if (step.kind === 'stall') return startBrokenStream(res, step.text);
    if (step.kind === 'malformed') {
      startBrokenStream(res, step.text);
      res.end('data: {"id": "chatcmpl-x", "object": "chat.completion.chunk", "cho\n\n');
      return;
    }
    if (step.kind === 'http-error') {
      const message = step.message ?? `fake openai server: scripted HTTP ${step.status}`;
      return sendError(res, step.status, message, step.headers);
    }
    const completion = toCompletion(step, rec);
    if (body.stream === true) {
      const options = body['stream_options'] as { include_usage?: boolean } | undefined;
      sendStream(res, completion, options?.include_usage === true);
    } else {
      sendJson(res, 200, completionJson(completion));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const message = `fake openai server: ${err instanceof Error ? err.message : String(err)}`;
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
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    get pending() {
      return queue.length;
    },
    enqueue: (...items) => void queue.push(...items),
    script: (items) => void queue.splice(0, queue.length, ...items),
    requireApiKey: (key) => void (apiKey = key),
    modelsEndpoint: (enabled) => void (models = enabled),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      models = true;
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
            reject(
              new Error(
                `fake openai server: timed out after ${timeoutMs}ms waiting for ${n} request(s); got ${requests.length}`,
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
          w.reject(new Error(`fake openai server: closed while waiting for ${w.n} request(s)`));
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
