#!/usr/bin/env node
/**
 * A tiny stdio MCP server for tests: newline-delimited JSON-RPC on stdin/stdout, Node built-ins
 * only (a cell has node but not our node_modules). `node fake-mcp-server.mjs MODE`:
 *   ok          answers initialize, tools/list (echo, where, child, connect) and tools/call
 *   crash       exits with code 3 on tools/call
 *   hang        never answers tools/call
 *   flood       answers tools/call with an endless line
 *   wide        answers tools/call with 500 KB of bytes that are not UTF-8 (3 bytes each, decoded)
 *   chatty      sends notifications nobody asked for, without end, on tools/call
 *   bad-schema  lists tools with a non-object input schema and a bad name, beside echo
 */
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import process from 'node:process';
import readline from 'node:readline';

const mode = process.argv[2] ?? 'ok';

const echo = {
  name: 'echo',
  description: 'Echo the text back.',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};
const where = {
  name: 'where',
  description: 'Say where this server runs.',
  inputSchema: { type: 'object', properties: {} },
};

const child = {
  name: 'child',
  description: 'Start a child process once; say whether it is alive.',
  inputSchema: { type: 'object', properties: {} },
};
const connect = {
  name: 'connect',
  description: 'Try a TCP connection to 127.0.0.1:port.',
  inputSchema: { type: 'object', properties: { port: { type: 'number' } } },
};
let started;

function send(message) {
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
}

function tools() {
  if (mode !== 'bad-schema') return [echo, where, child, connect];
  return [
    echo,
    { name: 'stringy', description: 'Input is not an object.', inputSchema: { type: 'string' } },
    { name: 'bad name!', description: 'A name no model accepts.', inputSchema: echo.inputSchema },
  ];
}

function call(id, params) {
  if (mode === 'crash') {
    process.stderr.write('fake-mcp-server: crashing as asked\n');
    process.exit(3);
  }
  if (mode === 'hang') return;
  if (mode === 'flood') {
    const chunk = 'x'.repeat(64 * 1024);
    const flood = () => {
      while (process.stdout.write(chunk));
      process.stdout.once('drain', flood);
    };
    process.stdout.write('{"jsonrpc":"2.0","id":' + JSON.stringify(id) + ',"result":"');
    flood();
    return;
  }
  if (mode === 'wide') {
    const head = Buffer.from(
      `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"`,
    );
    const tail = Buffer.from('"}]}}\n');
    process.stdout.write(Buffer.concat([head, Buffer.alloc(500 * 1024, 0xff), tail]));
    return;
  }
  if (mode === 'chatty') {
    const chat = () => {
      while (
        process.stdout.write(
          `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'hi' } })}\n`,
        )
      );
      process.stdout.once('drain', chat);
    };
    chat();
    return;
  }
  const args = params?.arguments ?? {};
  if (params?.name === 'echo') {
    send({ id, result: { content: [{ type: 'text', text: `echo: ${String(args.text)}` }] } });
  } else if (params?.name === 'where') {
    const inCell = fs.existsSync('/opt/nanocell/tool-server.mjs');
    const text = `cwd=${process.cwd()} in-cell=${inCell} var=${process.env.FAKE_MCP_VAR ?? ''}`;
    send({ id, result: { content: [{ type: 'text', text }] } });
  } else if (params?.name === 'child') {
    started ??= spawn('sleep', ['300'], { stdio: 'ignore' });
    const alive = started.exitCode === null && started.signalCode === null;
    send({
      id,
      result: { content: [{ type: 'text', text: `child=${alive ? 'alive' : 'dead'}` }] },
    });
  } else if (params?.name === 'connect') {
    const socket = net.connect(Number(args.port), '127.0.0.1');
    const answer = (text) => {
      socket.destroy();
      send({ id, result: { content: [{ type: 'text', text }] } });
    };
    socket.once('connect', () => answer('CONNECTED'));
    socket.once('error', (err) => answer(`BLOCKED ${err.code}`));
  } else {
    send({ id, error: { code: -32602, message: `no tool ${params?.name}` } });
  }
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  if (msg.id === undefined) return; // a notification
  if (msg.method === 'initialize') {
    send({
      id: msg.id,
      result: {
        protocolVersion: msg.params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'fake-mcp-server', version: '1.0.0' },
      },
    });
  } else if (msg.method === 'tools/list') {
    send({ id: msg.id, result: { tools: tools() } });
  } else if (msg.method === 'tools/call') {
    call(msg.id, msg.params);
  } else {
    send({ id: msg.id, error: { code: -32601, message: `no method ${msg.method}` } });
  }
});
