import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../src/agent/anthropic.js';
import {
  complete,
  type ConversationMessage,
  type ModelRequest,
} from '../../src/agent/model-provider.js';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';

const tool = (name: string) => ({
  name,
  description: `The ${name} tool. `.repeat(20),
  input_schema: { type: 'object' as const, properties: { x: { type: 'string' } } },
});
const user = (text: string): ConversationMessage => ({
  role: 'user',
  content: [{ type: 'text', text }],
});
const assistant = (text: string): ConversationMessage => ({
  role: 'assistant',
  content: [{ type: 'text', text }],
});

const request = (messages: ConversationMessage[], context = 'now: 10:00'): ModelRequest => ({
  system: 'You are the cache test. '.repeat(50),
  context,
  messages,
  tools: [tool('bash'), tool('read'), tool('write')],
  maxTokens: 64,
});

type Block = { type: string; text?: string; cache_control?: unknown };
type Sent = {
  system: Block[];
  tools: Array<{ name: string; cache_control?: unknown }>;
  messages: Array<{ role: string; content: Block[] }>;
};
const marks = (sent: Sent): string[] => {
  const out: string[] = [];
  sent.tools.forEach((t) => t.cache_control && out.push(`tool ${t.name}`));
  sent.system.forEach((b) => b.cache_control && out.push('system'));
  sent.messages.forEach((m, i) =>
    m.content.forEach((b, j) => b.cache_control && out.push(`message ${i} block ${j}`)),
  );
  return out;
};

describe('Anthropic prompt caching', () => {
  let server: FakeModelServer;
  const provider = (promptCache?: boolean) =>
    new AnthropicProvider({
      apiKey: 'k',
      baseUrl: server.url,
      model: 'fake-model',
      timeoutMs: 5000,
      maxRetries: 0,
      ...(promptCache !== undefined ? { promptCache } : {}),
    });
  const lastSent = () => server.requests.at(-1)?.body as unknown as Sent;

  beforeAll(async () => {
    server = await startFakeModelServer();
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  it('marks the last tool, the system prompt, the previous user turn and the newest message: four breakpoints', async () => {
    server.enqueue(reply().text('ok'));
    const history = [user('one'), assistant('first'), user('two'), assistant('second')];
    await complete(provider(), request([...history, user('three')]));
    const sent = lastSent();
    expect(marks(sent)).toEqual(['tool write', 'system', 'message 2 block 0', 'message 4 block 0']);
    // The turn's context comes after the last breakpoint, in the newest message only.
    expect(sent.messages[4]!.content).toEqual([
      { type: 'text', text: 'three', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'now: 10:00' },
    ]);
    expect(JSON.stringify(sent.messages.slice(0, 4))).not.toContain('now: 10:00');
    expect(JSON.stringify(sent.system)).not.toContain('now: 10:00');
  });

  it('never marks an empty text block, and a first message gets three breakpoints', async () => {
    server.enqueue(reply().text('ok'));
    const first: ConversationMessage = {
      role: 'user',
      content: [
        { type: 'text', text: 'hi' },
        { type: 'text', text: '' },
      ],
    };
    await complete(provider(), request([first]));
    expect(marks(lastSent())).toEqual(['tool write', 'system', 'message 0 block 0']);
  });

  it('sends no cache_control with NANOCELL_PROMPT_CACHE=off, the context still last', async () => {
    server.enqueue(reply().text('ok'));
    await complete(provider(false), request([user('one'), assistant('a'), user('two')]));
    const sent = lastSent();
    expect(JSON.stringify(sent)).not.toContain('cache_control');
    expect(sent.messages[2]!.content.at(-1)).toEqual({ type: 'text', text: 'now: 10:00' });
  });

  it('reads the prefix the previous request wrote, across turns whose time differs', async () => {
    server.enqueue(reply().text('a'), reply().text('b'));
    const first = await complete(provider(), request([user('one')], 'now: 10:00'));
    expect(first.usage.cacheReadTokens).toBe(0);
    expect(first.usage.cacheWriteTokens).toBeGreaterThan(500);
    const second = await complete(
      provider(),
      request([user('one'), assistant('a'), user('two')], 'now: 10:05'),
    );
    // Everything up to the first turn's message is read; only the new turn is written.
    expect(second.usage.cacheReadTokens).toBe(first.usage.cacheWriteTokens);
    expect(second.usage.cacheWriteTokens).toBeGreaterThan(0);
    expect(second.usage.cacheWriteTokens).toBeLessThan(50);
    expect(second.usage.inputTokens).toBeLessThan(20);
  });

  it('pays every prompt token as input without caching', async () => {
    server.enqueue(reply().text('a'), reply().text('b'));
    await complete(provider(false), request([user('one')]));
    const second = await complete(
      provider(false),
      request([user('one'), assistant('a'), user('two')]),
    );
    expect(second.usage.cacheReadTokens).toBe(0);
    expect(second.usage.cacheWriteTokens).toBe(0);
    expect(second.usage.inputTokens).toBeGreaterThan(500);
  });
});
