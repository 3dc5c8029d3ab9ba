import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpError, reply } from '../../test/support/fake-model-server.js';
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from '../../test/support/fake-openai-server.js';
import { complete, ModelError, type ModelRequest } from './model-provider.js';
import { OpenAIProvider } from './openai.js';
import { ChunkAssembler, toChatMessages, toUsage } from './openai-messages.js';

const request: ModelRequest = {
  system: 'sys',
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'list files' }] },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Looking.' },
        { type: 'tool_use', id: 'call_a', name: 'bash', input: { command: 'ls' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_a', content: 'a.txt' },
        { type: 'text', text: 'and now?' },
      ],
    },
  ],
  tools: [
    {
      name: 'bash',
      description: 'Run a command.',
      input_schema: { type: 'object', properties: { command: { type: 'string' } } },
    },
  ],
  maxTokens: 100,
};

const chunk = (delta: object, finish: string | null = null) =>
  ({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  }) as never;

describe('toChatMessages', () => {
  it('maps tool_use to assistant tool_calls and tool_result to a tool message before the text', () => {
    expect(toChatMessages(request)).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'list files' },
      {
        role: 'assistant',
        content: 'Looking.',
        tool_calls: [
          {
            id: 'call_a',
            type: 'function',
            function: { name: 'bash', arguments: '{"command":"ls"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'a.txt' },
      { role: 'user', content: 'and now?' },
    ]);
  });

  it('marks a failed tool result as an error in its text', () => {
    const messages = toChatMessages({
      ...request,
      messages: [
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'x', content: 'boom', is_error: true }],
        },
      ],
    });
    expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'x', content: 'Error: boom' });
  });
});

describe('toUsage', () => {
  it('counts cached prompt tokens apart from the others, and ignores what is not a count', () => {
    expect(
      toUsage({
        prompt_tokens: 100,
        completion_tokens: 7,
        total_tokens: 107,
        prompt_tokens_details: { cached_tokens: 60 },
      }),
    ).toEqual({ inputTokens: 40, outputTokens: 7, cacheReadTokens: 60, cacheWriteTokens: 0 });
    expect(
      toUsage({ prompt_tokens: -3, completion_tokens: 'many', total_tokens: 0 } as never),
    ).toEqual({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });
});

describe('ChunkAssembler', () => {
  it('joins two interleaved tool calls split anywhere, by index', () => {
    const a = new ChunkAssembler();
    a.add(
      chunk({ tool_calls: [{ index: 1, id: 'b', function: { name: 'ba', arguments: '{"c' } }] }),
    );
    a.add(
      chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'bash', arguments: '' } }] }),
    );
    a.add(
      chunk({ tool_calls: [{ index: 1, function: { name: 'sh', arguments: 'ommand":"pwd"}' } }] }),
    );
    a.add(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"command":"ls"}' } }] }));
    a.add(chunk({}, 'tool_calls'));
    expect(a.response().content).toEqual([
      { type: 'tool_use', id: 'a', name: 'bash', input: { command: 'ls' } },
      { type: 'tool_use', id: 'b', name: 'bash', input: { command: 'pwd' } },
    ]);
  });

  it('calls a tool call finished with "stop" a tool use, and gives a missing id one', () => {
    const a = new ChunkAssembler();
    a.add(chunk({ tool_calls: [{ index: 0, function: { name: 'bash', arguments: '{}' } }] }));
    a.add(chunk({}, 'stop'));
    const response = a.response();
    expect(response.stopReason).toBe('tool_use');
    expect(response.content).toEqual([{ type: 'tool_use', id: 'call_0', name: 'bash', input: {} }]);
  });

  it('refuses tool arguments that are not a JSON object as bad_response', () => {
    for (const args of ['{"command": "ls"', '[1]']) {
      const a = new ChunkAssembler();
      a.add(
        chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'bash', arguments: args } }] }),
      );
      a.add(chunk({}, 'tool_calls'));
      expect(() => a.response()).toThrow(expect.objectContaining({ kind: 'bad_response' }));
    }
  });

  it('refuses tool calls that are not a list, and more calls than one answer may hold', () => {
    expect(() => new ChunkAssembler().add(chunk({ tool_calls: { index: 0 } }))).toThrow(
      expect.objectContaining({ kind: 'bad_response' }),
    );
    const a = new ChunkAssembler();
    const many = () => {
      for (let index = 0; index < 100; index++) {
        a.add(chunk({ tool_calls: [{ index, id: `c${index}`, function: { name: 'bash' } }] }));
      }
    };
    expect(many).toThrow(expect.objectContaining({ kind: 'bad_response' }));
  });

  it('refuses an answer that ends without a finish reason', () => {
    const a = new ChunkAssembler();
    a.add(chunk({ content: 'Half' }));
    expect(() => a.response()).toThrow(expect.objectContaining({ kind: 'bad_response' }));
  });
});

describe('OpenAIProvider', () => {
  let server: FakeOpenAIServer;
  const provider = (o: { apiKey?: string; model?: string } = {}) =>
    new OpenAIProvider({
      apiKey: undefined,
      baseUrl: server.url,
      model: 'fake-model',
      timeoutMs: 5000,
      maxRetries: 0,
      ...o,
    });

  beforeAll(async () => {
    server = await startFakeOpenAIServer();
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  it('sends no Authorization header without an API key, and the bearer key with one', async () => {
    server.enqueue(reply().text('a'), reply().text('b'));
    await complete(provider(), request);
    await complete(provider({ apiKey: 'sk-local' }), request);
    expect(server.requests[0]?.headers['authorization']).toBeUndefined();
    expect(server.requests[1]?.headers['authorization']).toBe('Bearer sk-local');
  });

  it('asks for usage in the stream and sends the tools as functions', async () => {
    server.enqueue(reply().text('ok'));
    await complete(provider(), request);
    const body = server.requests[0]?.body;
    expect(body?.stream).toBe(true);
    expect(body?.['stream_options']).toEqual({ include_usage: true });
    expect(JSON.stringify(body?.tools)).toContain('"type":"function"');
  });

  it('tells plainly that a model cannot call tools', async () => {
    server.enqueue(
      httpError(400, { message: 'registry.ollama.ai/library/gemma:2b does not support tools' }),
    );
    const error = await complete(provider({ model: 'gemma:2b' }), request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).kind).toBe('model_config');
    expect((error as ModelError).message).toMatch(
      /gemma:2b does not support tool calls.*NANOCELL_MODEL/,
    );
  });

  it("passes on the server's reason for a refusal, without its control characters", async () => {
    server.enqueue(httpError(400, { message: 'max_tokens \u001b[2Jis too large\n' }));
    const error = await complete(provider(), request).catch((e: unknown) => e);
    expect((error as ModelError).kind).toBe('bad_request');
    expect((error as ModelError).message).toBe(
      'The model API refused the request (HTTP 400): max_tokens  [2Jis too large ',
    );
  });

  it('check: names a model the server does not list', async () => {
    const result = await provider({ model: 'llama3.2' }).check();
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/does not list the model llama3\.2 \(it has fake-model\)/);
  });

  it('check: without a models endpoint, makes one minimal request with a tool', async () => {
    server.modelsEndpoint(false);
    server.enqueue(reply().text('hi'));
    const result = await provider().check();
    expect(result).toEqual({ ok: true, detail: expect.stringMatching(/one-token request/) });
    const sent = server.requests.at(-1)?.body;
    expect(sent?.max_tokens).toBe(1);
    expect(sent?.stream).toBeUndefined();
    expect(sent?.tools).toHaveLength(1);
  });

  it('check: without a models endpoint, reports a model that cannot call tools', async () => {
    server.modelsEndpoint(false);
    server.enqueue(httpError(400, { message: 'model does not support tools' }));
    const result = await provider().check();
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/does not support tool calls/);
  });
});
