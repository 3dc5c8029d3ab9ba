import Anthropic from '@anthropic-ai/sdk';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerFor, startFakeModel } from './fake-model.mjs';

const TOOLS = [{ name: 'bash', input_schema: { type: 'object' } }];

describe('answerFor', () => {
  it.each([
    {
      name: 'asks for the command when the last message is the user text',
      body: { tools: TOOLS, messages: [{ role: 'user', content: 'hello' }] },
      expected: [{ type: 'tool_use', name: 'bash', input: { command: 'echo hi' } }],
    },
    {
      name: 'quotes a tool result',
      body: {
        tools: TOOLS,
        messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'hi\n' }] }],
      },
      expected: [{ type: 'text', text: 'done: hi' }],
    },
    {
      name: 'quotes a failed tool result as a failure',
      body: {
        tools: TOOLS,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'tool_result', is_error: true, content: [{ type: 'text', text: 'no' }] },
            ],
          },
        ],
      },
      expected: [{ type: 'text', text: 'tool failed: no' }],
    },
    {
      name: 'answers a request without tools (a summary) with text',
      body: { messages: [{ role: 'user', content: 'summarise' }] },
      expected: [{ type: 'text' }],
    },
  ])('$name', ({ body, expected }) => {
    expect(answerFor(body, 'echo hi')).toMatchObject(expected);
  });
});

describe('the fake model server', () => {
  let model;
  beforeAll(async () => {
    model = await startFakeModel();
  });
  afterAll(() => model.close());

  it('streams a tool_use the Anthropic SDK assembles, and records when the request came', async () => {
    const client = new Anthropic({ apiKey: 'x', baseURL: model.url, maxRetries: 0 });
    const before = performance.now();
    const stream = client.messages.stream({
      model: 'fake-model',
      max_tokens: 100,
      tools: [{ name: 'bash', input_schema: { type: 'object' } }],
      messages: [{ role: 'user', content: 'run it' }],
    });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toMatchObject([
      { type: 'tool_use', name: 'bash', input: { command: 'echo hi' } },
    ]);
    expect(model.requests.at(-1)).toMatchObject({ path: '/v1/messages', answer: 'tool_use' });
    expect(model.requests.at(-1).at).toBeGreaterThanOrEqual(before);
  });

  it('streams the final text the SDK assembles', async () => {
    const client = new Anthropic({ apiKey: 'x', baseURL: model.url, maxRetries: 0 });
    const message = await client.messages
      .stream({
        model: 'fake-model',
        max_tokens: 100,
        tools: [{ name: 'bash', input_schema: { type: 'object' } }],
        messages: [
          { role: 'user', content: 'run it' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'bash', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'hi' }] },
        ],
      })
      .finalMessage();
    expect(message.content).toMatchObject([{ type: 'text', text: 'done: hi' }]);
  });
});
