import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply } from './fake-model-server.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from './fake-openai-server.js';

describe('fake OpenAI-compatible server', () => {
  let server: FakeOpenAIServer;
  const post = (body: object) =>
    fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages: [], ...body }),
    });

  beforeAll(async () => {
    server = await startFakeOpenAIServer();
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  it('answers a request that does not stream with one chat.completion, tool calls included', async () => {
    server.enqueue(
      reply()
        .tool('bash', { command: 'ls' }, { id: 'call_1' })
        .usage({ input_tokens: 7, output_tokens: 3 }),
    );
    const res = await post({});
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({
      object: 'chat.completion',
      model: 'llama3.2',
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'bash', arguments: '{"command":"ls"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
  });

  it('streams chunks then [DONE], with a usage chunk only when asked for', async () => {
    server.enqueue(reply().text('Hello there'), reply().text('Hello there'));
    const lines = async (body: object) =>
      (await (await post({ stream: true, ...body })).text()).split('\n\n').filter(Boolean);
    const plain = await lines({});
    const counted = await lines({ stream_options: { include_usage: true } });
    expect(plain.at(-1)).toBe('data: [DONE]');
    expect(plain.some((l) => l.includes('"usage"'))).toBe(false);
    const usage = JSON.parse(counted.at(-2)!.slice('data: '.length)) as {
      choices: unknown[];
      usage: unknown;
    };
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ completion_tokens: expect.any(Number) });
    const text = plain
      .slice(0, -1)
      .map(
        (l) =>
          JSON.parse(l.slice('data: '.length)) as {
            choices: Array<{ delta: { content?: string } }>;
          },
      )
      .map((c) => c.choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe('Hello there');
  });

  it('has no models endpoint when told so', async () => {
    expect((await fetch(`${server.url}/models`)).status).toBe(200);
    server.modelsEndpoint(false);
    expect((await fetch(`${server.url}/models`)).status).toBe(404);
  });
});
