import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  hang,
  httpError,
  malformed,
  reply,
  stall,
  startFakeModelServer,
  type FakeModelServer,
} from './fake-model-server.js';

const base = {
  model: 'claude-test',
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content: 'hi' }],
};

describe('fake model server', () => {
  let server: FakeModelServer;
  const client = (
    opts: { maxRetries?: number; timeout?: number; logLevel?: 'off' } = {},
  ): Anthropic =>
    new Anthropic({
      apiKey: 'x',
      baseURL: server.url,
      maxRetries: opts.maxRetries ?? 0,
      timeout: opts.timeout ?? 5000,
      ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
    });

  beforeEach(async () => {
    server = await startFakeModelServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 with a random port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('streams a text reply', async () => {
    server.enqueue(reply().text('hello from the fake model'));
    const msg = await client().messages.stream(base).finalMessage();
    expect(msg.content).toEqual([{ type: 'text', text: 'hello from the fake model' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.model).toBe('claude-test');
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams a multi-block tool_use reply, and create() returns the same shape', async () => {
    const input = { command: 'id -u', env: { A: '1' }, args: ['x', 2, null] };
    const make = () =>
      reply()
        .text('Let me check')
        .tool('bash', input)
        .tool('read_file', { path: '/etc/hosts' }, { id: 'toolu_fixed' });
    server.enqueue(make(), make());

    const streamed = await client().messages.stream(base).finalMessage();
    const created = await client().messages.create(base);
    for (const msg of [streamed, created]) {
      expect(msg.stop_reason).toBe('tool_use');
      expect(msg.content).toHaveLength(3);
      expect(msg.content[0]).toEqual({ type: 'text', text: 'Let me check' });
      expect(msg.content[1]).toMatchObject({ type: 'tool_use', name: 'bash', input });
      expect(msg.content[1]?.type === 'tool_use' && msg.content[1].id).toMatch(/^toolu_/);
      expect(msg.content[2]).toEqual({
        type: 'tool_use',
        id: 'toolu_fixed',
        name: 'read_file',
        input: { path: '/etc/hosts' },
      });
    }
    const ids = [streamed, created].map((m) =>
      m.content[1]?.type === 'tool_use' ? m.content[1].id : '',
    );
    expect(new Set(ids).size).toBe(2);
  });

  it('emits the real SSE event sequence with chunked deltas', async () => {
    server.enqueue(reply().text('abcdefghij').tool('bash', {}));
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...base, stream: true }),
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((chunk) => {
        const [eventLine, dataLine] = chunk.split('\n');
        const data = JSON.parse((dataLine ?? '').replace(/^data: /, '')) as {
          type: string;
          delta?: Record<string, string>;
        };
        expect(eventLine).toBe(`event: ${data.type}`);
        return data;
      });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    const textDeltas = events.filter((e) => e.delta?.type === 'text_delta');
    const jsonDeltas = events.filter((e) => e.delta?.type === 'input_json_delta');
    expect(textDeltas.length).toBeGreaterThan(1);
    expect(textDeltas.map((e) => e.delta?.text).join('')).toBe('abcdefghij');
    expect(jsonDeltas.length).toBeGreaterThanOrEqual(2);
    expect(jsonDeltas.map((e) => e.delta?.partial_json).join('')).toBe('{}');
    expect(types.filter((t) => t === 'content_block_start')).toHaveLength(2);
    expect(types.filter((t) => t === 'content_block_stop')).toHaveLength(2);
  });

  it('retries through a 429 and records both requests', async () => {
    server.enqueue(httpError(429), reply().text('after retry'));
    const msg = await client({ maxRetries: 2 }).messages.create(base);
    expect(msg.content).toEqual([{ type: 'text', text: 'after retry' }]);
    expect(server.requests).toHaveLength(2);
  });

  it('surfaces 401 as AuthenticationError without retrying', async () => {
    server.enqueue(httpError(401), reply().text('never'));
    const err = await client({ maxRetries: 2 })
      .messages.create(base)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as APIError).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
    expect(server.requests).toHaveLength(1);
  });

  it('surfaces 500 as InternalServerError with maxRetries 0', async () => {
    server.enqueue(httpError(500, { message: 'boom' }));
    const err = await client()
      .messages.create(base)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as Error).message).toContain('boom');
  });

  it('maps 529 to overloaded_error with a fast retry hint', async () => {
    server.enqueue(httpError(529));
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify(base),
    });
    expect(res.status).toBe(529);
    expect(res.headers.get('retry-after-ms')).toBe('1');
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('stall() sends the first text delta, then nothing, until the client gives up', async () => {
    server.enqueue(stall('Thinking about'));
    const controller = new AbortController();
    const stream = client().messages.stream(base, { signal: controller.signal });
    const first = await new Promise<string>((resolve) => stream.on('text', resolve));
    expect(first).toBe('Thinking about');
    controller.abort();
    await expect(stream.finalMessage()).rejects.toThrow();
  });

  it('malformed() ends the stream with a chunk that is not JSON', async () => {
    server.enqueue(malformed());
    const err = await client({ logLevel: 'off' })
      .messages.stream(base)
      .finalMessage()
      .catch((e: unknown) => e);
    // The SDK wraps the JSON parser's SyntaxError.
    expect(err).toBeInstanceOf(Anthropic.AnthropicError);
    expect(err).not.toBeInstanceOf(APIError);
    expect((err as Error).message).toMatch(/JSON/);
  });

  it('hang() times the client out and close() still returns promptly', async () => {
    server.enqueue(hang());
    const err = await client({ timeout: 300 })
      .messages.create(base)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);

    // A second hung request whose client never gives up: close must destroy its socket.
    server.enqueue(hang());
    const pending = fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify(base),
    }).catch((e: unknown) => e);
    await server.waitForRequests(2);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('records request bodies and headers', async () => {
    server.enqueue(reply().text('ok'));
    const tools = [
      {
        name: 'bash',
        description: 'run',
        input_schema: { type: 'object' as const, properties: {} },
      },
    ];
    await client().messages.create({ ...base, system: 'be brief', tools });
    const [req] = await server.waitForRequests(1);
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/v1/messages');
    // SDK 1.x sends the API key as a bearer token.
    expect(req?.headers['authorization'] ?? req?.headers['x-api-key']).toMatch(/^(Bearer )?x$/);
    expect(req?.body?.system).toBe('be brief');
    expect(req?.body?.messages).toEqual(base.messages);
    expect(req?.body?.tools).toEqual(tools);
    expect(req?.receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it('builds replies from the recorded request with the function form', async () => {
    server.enqueue((req) =>
      reply().text(`you said ${String(req.body?.messages?.at(-1)?.content)}`),
    );
    const msg = await client().messages.create(base);
    expect(msg.content).toEqual([{ type: 'text', text: 'you said hi' }]);
  });

  it('lists models', async () => {
    const page = await client().models.list();
    expect(page.data.map((m) => m.id)).toEqual(['fake-model']);
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      path: '/v1/models',
      body: undefined,
    });
  });

  it('answers an exhausted script with a recorded 500', async () => {
    server.script([reply().text('one')]);
    expect(server.pending).toBe(1);
    await client().messages.create(base);
    const err = await client({ maxRetries: 2 })
      .messages.create(base)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as Error).message).toContain('script exhausted');
    expect(server.requests).toHaveLength(2);
  });

  it('enforces requireApiKey', async () => {
    server.requireApiKey('secret');
    server.enqueue(reply().text('ok'));
    await expect(client().messages.create(base)).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
    const good = new Anthropic({ apiKey: 'secret', baseURL: server.url, maxRetries: 0 });
    expect((await good.messages.create(base)).content).toEqual([{ type: 'text', text: 'ok' }]);
    server.enqueue(reply().text('raw'));
    const raw = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'secret' },
      body: JSON.stringify(base),
    });
    expect(raw.status).toBe(200);
  });

  it('rejects waitForRequests on timeout with a clear error', async () => {
    await expect(server.waitForRequests(1, 50)).rejects.toThrow(
      /timed out after 50ms waiting for 1 request/,
    );
  });
});
