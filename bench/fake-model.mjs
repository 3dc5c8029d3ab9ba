import { Buffer } from 'node:buffer';
import { URL } from 'node:url';
import crypto from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * A minimal Anthropic Messages API on 127.0.0.1 for the turn benchmarks. It is stateless and
 * answers like a model that runs one command and then reports: a request whose last message
 * carries a tool_result gets a text answer quoting it; any other request with tools gets a
 * `bash` tool_use; a request without tools (a history summary) gets text. Every request's
 * arrival time is recorded (performance.now(), the same clock as the benchmark's).
 */
export async function startFakeModel(options = {}) {
  const command = options.command ?? 'echo hi';
  /** @type {Array<{ at: number, path: string, answer: string }>} */
  const requests = [];
  const listeners = new Set();
  const sockets = new Set();

  const server = http.createServer((req, res) => {
    const at = performance.now();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      let body;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        body = undefined;
      }
      const answer = route(req.method ?? 'GET', path, body, res, command);
      const record = { at, path, answer };
      requests.push(record);
      for (const listener of listeners) listener(record);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Call `fn` with each request as it is answered; returns the unsubscribe function. */
    onRequest(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve(undefined));
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

const MODELS = {
  data: [
    { id: 'fake-model', type: 'model', display_name: 'Fake', created_at: '2025-01-01T00:00:00Z' },
  ],
  has_more: false,
  first_id: 'fake-model',
  last_id: 'fake-model',
};

function route(method, path, body, res, command) {
  if (method === 'GET' && path === '/v1/models') return (sendJson(res, 200, MODELS), 'models');
  if (method === 'POST' && path === '/v1/messages/count_tokens') {
    return (sendJson(res, 200, { input_tokens: 100 }), 'count_tokens');
  }
  if (method !== 'POST' || path !== '/v1/messages' || typeof body !== 'object' || !body) {
    sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: path } });
    return 'error';
  }
  const blocks = answerFor(body, command);
  const message = {
    id: `msg_${crypto.randomBytes(8).toString('hex')}`,
    type: 'message',
    role: 'assistant',
    model: typeof body.model === 'string' ? body.model : 'fake-model',
    content: blocks,
    stop_reason: blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 20 },
  };
  if (body.stream === true) sendStream(res, message);
  else sendJson(res, 200, message);
  return blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'text';
}

/** The model's answer; exported for its unit test. */
export function answerFor(body, command) {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (tools.length === 0) return [{ type: 'text', text: 'Summary: a benchmark conversation.' }];
  const last = Array.isArray(body.messages) ? body.messages.at(-1) : undefined;
  const content = Array.isArray(last?.content) ? last.content : [];
  const result = content.find((b) => b && b.type === 'tool_result');
  if (result) {
    const text =
      typeof result.content === 'string'
        ? result.content
        : Array.isArray(result.content)
          ? result.content.map((c) => (c && typeof c.text === 'string' ? c.text : '')).join('')
          : '';
    return [
      {
        type: 'text',
        text: `${result.is_error ? 'tool failed' : 'done'}: ${text.trim().slice(0, 200)}`,
      },
    ];
  }
  return [
    {
      type: 'tool_use',
      id: `toolu_${crypto.randomBytes(8).toString('hex')}`,
      name: 'bash',
      input: { command },
    },
  ];
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_bench' });
  res.end(JSON.stringify(body));
}

/** The Messages API event sequence for one message, as the SDK's stream parser expects it. */
export function streamEvents(message) {
  const events = [
    [
      'message_start',
      {
        message: {
          ...message,
          content: [],
          stop_reason: null,
          // Like the API: the prompt's counts (cache read and write too) come at the start.
          usage: { ...message.usage, output_tokens: 1 },
        },
      },
    ],
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push(['content_block_start', { index, content_block: { type: 'text', text: '' } }]);
      events.push([
        'content_block_delta',
        { index, delta: { type: 'text_delta', text: block.text } },
      ]);
    } else {
      events.push([
        'content_block_start',
        { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } },
      ]);
      const json = JSON.stringify(block.input);
      const half = Math.ceil(json.length / 2);
      for (const partial_json of [json.slice(0, half), json.slice(half)]) {
        events.push([
          'content_block_delta',
          { index, delta: { type: 'input_json_delta', partial_json } },
        ]);
      }
    }
    events.push(['content_block_stop', { index }]);
  });
  events.push([
    'message_delta',
    {
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    },
  ]);
  events.push(['message_stop', {}]);
  return events
    .map(
      ([event, data]) => `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`,
    )
    .join('');
}

function sendStream(res, message) {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'request-id': 'req_bench',
  });
  res.end(streamEvents(message));
}
