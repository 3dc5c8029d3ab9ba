/* global module, require, process, Buffer */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS module the upstream requires */
/**
 * A remote MCP server for the egress-netns upstream (test/support/egress-netns.ts): the SDK's
 * own Streamable HTTP server transport, stateful (Mcp-Session-Id), answering requests as
 * server-sent events, at /mcp on every port. One tool, `lookup`, which says the word it was
 * given and the authorization header it saw (so a test sees what the proxy added); the word
 * `hang` is never answered and `flood` is answered with 5 MB of text. Each
 * JSON-RPC method it receives is appended to $NANOCELL_TEST_MCP_LOG, one per line.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const { Server } = require('@modelcontextprotocol/sdk/server/index.js');
const {
  StreamableHTTPServerTransport,
} = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const {
  ListToolsRequestSchema,
  CallToolRequestSchema,
} = require('@modelcontextprotocol/sdk/types.js');

const log = process.env.NANOCELL_TEST_MCP_LOG;
const sessions = new Map();

function serverFor(auth) {
  const server = new Server({ name: 'fake-remote', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      {
        name: 'lookup',
        description: 'Look a word up in the notes.',
        inputSchema: {
          type: 'object',
          properties: { word: { type: 'string' } },
          required: ['word'],
        },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const word = String(request.params.arguments?.word);
    if (word === 'hang') return new Promise(() => {});
    const text =
      word === 'flood'
        ? 'x'.repeat(5 * 1024 * 1024)
        : `notes on ${word}; authorization seen: ${auth() || 'none'}`;
    return { content: [{ type: 'text', text }] };
  });
  return server;
}

function record(body) {
  if (!log) return;
  for (const m of Array.isArray(body) ? body : [body]) {
    fs.appendFileSync(log, `${m && typeof m === 'object' && m.method ? m.method : 'response'}\n`);
  }
}

async function handle(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  const body = text ? JSON.parse(text) : undefined;
  if (req.method === 'DELETE' && log) fs.appendFileSync(log, 'DELETE\n');
  if (body !== undefined) record(body);
  const id = req.headers['mcp-session-id'];
  let session = typeof id === 'string' ? sessions.get(id) : undefined;
  if (!session) {
    if (!body || body.method !== 'initialize') {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(
        '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}',
      );
    }
    const current = { auth: '' };
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (sid) => sessions.set(sid, session),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    session = { transport, current };
    await serverFor(() => current.auth).connect(transport);
  }
  session.current.auth = String(req.headers.authorization || '');
  await session.transport.handleRequest(req, res, body);
}

module.exports = (req, res) => {
  if (!(req.url || '').startsWith('/mcp')) return false;
  handle(req, res).catch((err) => {
    res.writeHead(500);
    res.end(String(err && err.message));
  });
  return true;
};
