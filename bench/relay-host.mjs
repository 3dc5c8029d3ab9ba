/**
 * The floor of a turn: a bare host with nothing of nanocell's (no store, no queue, no SDK, no
 * policy, no audit). It serves the same web API routes, forwards each message to the model at
 * once, runs the requested command the bare way (`<engine> exec`/`run`, or a bare bwrap), asks
 * the model again with the output, and pushes the answer on the event stream.
 *
 * Usage: node bench/relay-host.mjs '{"modelUrl": ..., "tools": {"CHAT": TOOL}}', where TOOL is
 * {"kind": "argv", "argv": [...]} (the command is appended as `bash -c CMD`) or
 * {"kind": "bwrap", "sandbox": {...}}; prints "relay: URL" once it listens.
 */
import process from 'node:process';
import { URL } from 'node:url';
import http from 'node:http';
import { runBareBwrap } from './bare.mjs';
import { runTimed } from './commands.mjs';
import { createSseParser } from './web-client.mjs';

const BASH_TOOL = {
  name: 'bash',
  description: 'Run a shell command.',
  input_schema: {
    type: 'object',
    properties: { command: { type: 'string' } },
    required: ['command'],
  },
};

const config = JSON.parse(process.argv[2] ?? '{}');
const modelAgent = new http.Agent({ keepAlive: true });
const listeners = new Set();

/** One streamed Messages request; resolves with the assembled content blocks. */
function callModel(messages) {
  const payload = JSON.stringify({
    model: 'fake-model',
    max_tokens: 1024,
    stream: true,
    messages,
    tools: [BASH_TOOL],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL('/v1/messages', config.modelUrl),
      {
        method: 'POST',
        agent: modelAgent,
        headers: { 'content-type': 'application/json', 'x-api-key': 'bench-key' },
      },
      (res) => {
        const blocks = [];
        const json = [];
        const parse = createSseParser(({ data }) => {
          const e = JSON.parse(data);
          if (e.type === 'content_block_start') {
            blocks[e.index] = { ...e.content_block };
            json[e.index] = '';
          } else if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') {
            blocks[e.index].text += e.delta.text;
          } else if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') {
            json[e.index] += e.delta.partial_json;
          } else if (e.type === 'content_block_stop' && blocks[e.index].type === 'tool_use') {
            blocks[e.index].input = JSON.parse(json[e.index] || '{}');
          }
        });
        res.setEncoding('utf8');
        res.on('data', parse);
        res.on('end', () => resolve(blocks));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The chat picks the tool: e.g. `warm` runs `<engine> exec`, `cold` a fresh `run --rm`. */
async function runTool(chatId, command) {
  const tool = config.tools[chatId];
  if (!tool) return { output: `no tool configured for chat ${chatId}`, isError: true };
  const r =
    tool.kind === 'bwrap'
      ? await runBareBwrap(tool.sandbox, ['/bin/bash', '-c', command])
      : await runTimed(tool.argv[0], [...tool.argv.slice(1), 'bash', '-c', command]);
  return { output: r.code === 0 ? r.stdout : `${r.stdout}${r.stderr}`, isError: r.code !== 0 };
}

async function turn(chatId, text) {
  const messages = [{ role: 'user', content: text }];
  let reply = '';
  for (let round = 0; round < 5; round++) {
    const blocks = await callModel(messages);
    const use = blocks.find((b) => b.type === 'tool_use');
    if (!use) {
      reply = blocks.map((b) => b.text ?? '').join('');
      break;
    }
    const result = await runTool(chatId, String(use.input.command ?? ''));
    messages.push({ role: 'assistant', content: blocks });
    messages.push({
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: use.id,
          content: result.output,
          is_error: result.isError,
        },
      ],
    });
  }
  const event = `event: message\ndata: ${JSON.stringify({ chatId, text: reply })}\n\n`;
  for (const res of listeners) res.write(event);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/api/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': connected\n\n');
    listeners.add(res);
    req.on('close', () => listeners.delete(res));
    return;
  }
  const match = /^\/api\/chats\/([^/]+)\/messages$/.exec(url.pathname);
  if (req.method !== 'POST' || !match) {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"stored":false}');
    const chatId = decodeURIComponent(/** @type {string} */ (match[1]));
    turn(chatId, String(JSON.parse(body).text)).catch((err) => {
      const event = `event: message\ndata: ${JSON.stringify({ chatId, text: `relay failed: ${err.message}` })}\n\n`;
      for (const l of listeners) l.write(event);
    });
  });
});

process.on('SIGTERM', () => {
  for (const l of listeners) l.end();
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

server.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`relay: http://127.0.0.1:${port}/\n`);
});
