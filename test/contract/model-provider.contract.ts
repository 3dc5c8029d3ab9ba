import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import {
  ModelError,
  type ModelErrorKind,
  type ModelEvent,
  type ModelProvider,
  type ModelRequest,
} from '../../src/agent/model-provider.js';
import {
  hang,
  httpError,
  malformed,
  reply,
  stall,
  type FakeModelServer,
} from '../support/fake-model-server.js';

export interface ProviderOptions {
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
  maxRetries: number;
}

/** How one ModelProvider implementation is put under the contract. */
export interface ProviderHarness {
  /** The scripted fake of the API this provider speaks, on 127.0.0.1. */
  startServer(): Promise<FakeModelServer>;
  newProvider(options: ProviderOptions): ModelProvider;
  /** Whether the provider refuses to run without an API key (local servers may need none). */
  requiresApiKey: boolean;
  /** Whether the API reports tokens written to its prompt cache (OpenAI reports reads only). */
  reportsCacheWrites: boolean;
}

const KEY = 'contract-key';

const request: ModelRequest = {
  system: 'You are the contract test.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
  tools: [
    {
      name: 'bash',
      description: 'Run a command.',
      input_schema: {
        type: 'object',
        properties: { command: { type: 'string' } },
        required: ['command'],
      },
    },
  ],
  maxTokens: 256,
};

/** Every event of one streamed request, or the ModelError it ended with. */
async function drain(
  provider: ModelProvider,
  signal?: AbortSignal,
  onEvent?: (e: ModelEvent) => void,
): Promise<{ events: ModelEvent[]; error: unknown }> {
  const events: ModelEvent[] = [];
  try {
    for await (const event of provider.stream(request, signal)) {
      events.push(event);
      onEvent?.(event);
    }
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

function expectModelError(error: unknown, kind: ModelErrorKind): ModelError {
  expect(error).toBeInstanceOf(ModelError);
  expect((error as ModelError).kind).toBe(kind);
  return error as ModelError;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * What the agent loop relies on from every ModelProvider: text deltas as they come, a tool
 * call once its input is whole (however the API splits it), one `done` with the usage, and
 * every failure as a ModelError of the right kind — including a request that hangs.
 */
export function modelProviderContract(name: string, harness: ProviderHarness): void {
  describe(`ModelProvider contract: ${name}`, () => {
    let server: FakeModelServer;
    const provider = (o: Partial<ProviderOptions> = {}) =>
      harness.newProvider({
        baseUrl: server.url,
        apiKey: KEY,
        timeoutMs: 5_000,
        maxRetries: 0,
        ...o,
      });

    beforeAll(async () => {
      server = await harness.startServer();
    });
    afterAll(() => server.close());
    beforeEach(() => {
      server.reset();
      server.requireApiKey(KEY);
    });

    it('streams text as more than one delta, then one done with the whole text and usage', async () => {
      server.enqueue(
        reply().text('The quick brown fox.').usage({ input_tokens: 12, output_tokens: 5 }),
      );
      const { events, error } = await drain(provider());
      expect(error).toBeUndefined();
      const texts = events.flatMap((e) => (e.type === 'text' ? [e.text] : []));
      expect(texts.length).toBeGreaterThan(1);
      expect(texts.join('')).toBe('The quick brown fox.');
      expect(events.filter((e) => e.type === 'done')).toHaveLength(1);
      const done = events.at(-1);
      expect(done?.type).toBe('done');
      if (done?.type !== 'done') return;
      expect(done.response.content).toEqual([{ type: 'text', text: 'The quick brown fox.' }]);
      expect(done.response.stopReason).toBe('end_turn');
      expect(done.response.usage).toEqual({
        inputTokens: 12,
        outputTokens: 5,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      });
    });

    it('reports the prompt cache tokens the API counts, apart from the uncached input', async () => {
      server.enqueue(
        reply().text('ok').usage({
          input_tokens: 40,
          output_tokens: 5,
          cache_read_input_tokens: 900,
          cache_creation_input_tokens: 60,
        }),
      );
      const { events, error } = await drain(provider());
      expect(error).toBeUndefined();
      const done = events.at(-1);
      if (done?.type !== 'done') throw new Error('no done event');
      expect(done.response.usage).toEqual({
        inputTokens: 40,
        outputTokens: 5,
        cacheReadTokens: 900,
        cacheWriteTokens: harness.reportsCacheWrites ? 60 : 0,
      });
      expect(done.response.model).toBe('fake-model');
    });

    it('sends the system prompt, the conversation and the tools', async () => {
      server.enqueue(reply().text('ok'));
      await drain(provider());
      const sent = JSON.stringify(server.requests.at(-1)?.body);
      expect(sent).toContain('You are the contract test.');
      expect(sent).toContain('hello');
      expect(sent).toContain('"bash"');
    });

    it('yields a tool call split across chunks as one event with its whole input', async () => {
      const input = { command: 'grep -rn "needle" .', nested: { depth: [1, 2, { x: 'y' }] } };
      server.enqueue(reply().text('Looking.').tool('bash', input, { id: 'call_1' }));
      const { events, error } = await drain(provider());
      expect(error).toBeUndefined();
      const calls = events.filter((e) => e.type === 'tool_call');
      expect(calls).toEqual([{ type: 'tool_call', id: 'call_1', name: 'bash', input }]);
      const kinds = events.map((e) => e.type);
      expect(kinds.indexOf('tool_call')).toBeGreaterThan(kinds.lastIndexOf('text'));
      const done = events.at(-1);
      if (done?.type !== 'done') throw new Error('no done event');
      expect(done.response.stopReason).toBe('tool_use');
      expect(done.response.content).toContainEqual({
        type: 'tool_use',
        id: 'call_1',
        name: 'bash',
        input,
      });
    });

    it('yields two tool calls of one reply in order', async () => {
      server.enqueue(
        reply()
          .tool('bash', { command: 'ls' }, { id: 'a' })
          .tool('bash', { command: 'pwd' }, { id: 'b' }),
      );
      const { events } = await drain(provider());
      const ids = events.flatMap((e) => (e.type === 'tool_call' ? [e.id] : []));
      expect(ids).toEqual(['a', 'b']);
    });

    it('maps a rejected API key (401) to auth, without retrying', async () => {
      server.requireApiKey('another-key');
      const { error } = await drain(provider({ maxRetries: 2 }));
      expectModelError(error, 'auth');
      expect(server.requests).toHaveLength(1);
    });

    it('retries a 429, then maps it to rate_limit when it stays', async () => {
      server.enqueue(httpError(429), httpError(429), httpError(429));
      const { error } = await drain(provider({ maxRetries: 2 }));
      expectModelError(error, 'rate_limit');
      expect(server.requests).toHaveLength(3);
    });

    it('retries a 429 and streams the answer that follows', async () => {
      server.enqueue(httpError(429), reply().text('after the wait'));
      const { events, error } = await drain(provider({ maxRetries: 1 }));
      expect(error).toBeUndefined();
      expect(events.at(-1)).toMatchObject({ type: 'done' });
    });

    it('maps a 5xx to server after its retries', async () => {
      server.enqueue(httpError(503), httpError(500));
      const { error } = await drain(provider({ maxRetries: 1 }));
      expectModelError(error, 'server');
      expect(server.requests).toHaveLength(2);
    });

    it('maps a refused request (400) to bad_request', async () => {
      server.enqueue(httpError(400, { message: 'max_tokens: too large' }));
      const { error } = await drain(provider());
      expectModelError(error, 'bad_request');
    });

    it('times out a request the server never answers', async () => {
      server.enqueue(hang());
      const { error } = await drain(provider({ timeoutMs: 300 }));
      expectModelError(error, 'timeout');
    });

    it('ends a hung request with aborted as soon as the signal fires', async () => {
      server.enqueue(hang());
      const controller = new AbortController();
      const result = drain(provider({ timeoutMs: 60_000 }), controller.signal);
      await server.waitForRequests(1);
      controller.abort(new Error('run over its time'));
      const { error } = await result;
      expectModelError(error, 'aborted');
    });

    it('ends a stream that stalls half-way with aborted when the signal fires', async () => {
      server.enqueue(stall('Let me think'));
      const controller = new AbortController();
      const { events, error } = await drain(
        provider({ timeoutMs: 60_000 }),
        controller.signal,
        (e) => {
          // The first delta arrived before the stall: the run stops now.
          if (e.type === 'text') controller.abort(new Error('run over its time'));
        },
      );
      expect(events).toEqual([{ type: 'text', text: 'Let me think' }]);
      expectModelError(error, 'aborted');
    });

    it('maps a chunk that does not parse to bad_response', async () => {
      server.enqueue(malformed());
      const { events, error } = await drain(provider());
      expectModelError(error, 'bad_response');
      expect(events.some((e) => e.type === 'done')).toBe(false);
    });

    it('reports an unreachable API as connection', async () => {
      const port = await closedPort();
      const { error } = await drain(provider({ baseUrl: `http://127.0.0.1:${port}` }));
      expectModelError(error, 'connection');
    });

    it(
      harness.requiresApiKey
        ? 'refuses to run without an API key, sending nothing'
        : 'runs without an API key against a server that asks for none (a local model)',
      async () => {
        if (harness.requiresApiKey) {
          const { error } = await drain(provider({ apiKey: undefined }));
          expectModelError(error, 'no_api_key');
          expect(server.requests).toHaveLength(0);
          return;
        }
        server.requireApiKey(undefined);
        server.enqueue(reply().text('no key needed'));
        const { events, error } = await drain(provider({ apiKey: undefined }));
        expect(error).toBeUndefined();
        expect(events.at(-1)?.type).toBe('done');
        expect(server.requests).toHaveLength(1);
      },
    );

    it('checks ok against a server that answers, and never throws when it does not', async () => {
      expect((await provider().check()).ok).toBe(true);
      server.requireApiKey('another-key');
      expect((await provider().check()).ok).toBe(false);
    });
  });
}
