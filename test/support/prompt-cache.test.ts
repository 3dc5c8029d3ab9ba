import { describe, expect, it } from 'vitest';
import { PromptCache } from './prompt-cache.mjs';

const mark = { cache_control: { type: 'ephemeral' } };
const text = (t: string, marked = false) => ({ type: 'text', text: t, ...(marked ? mark : {}) });
const body = (turns: string[], marked: boolean) => ({
  model: 'm',
  tools: [
    { name: 'bash', description: 'x'.repeat(400), input_schema: {}, ...(marked ? mark : {}) },
  ],
  system: [text('s'.repeat(400), marked)],
  messages: turns.map((t, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: [text(t, marked && i === turns.length - 1)],
  })),
});

describe('the fake prompt cache', () => {
  it('writes the marked prefix, then reads it back and writes only what is new', () => {
    const cache = new PromptCache();
    const first = cache.account(body(['hello'], true));
    expect(first.cache_read_input_tokens).toBe(0);
    expect(first.cache_creation_input_tokens).toBeGreaterThan(200);
    expect(first.input_tokens).toBe(0);
    const second = cache.account(body(['hello', 'hi', 'again'], true));
    expect(second.cache_read_input_tokens).toBe(first.cache_creation_input_tokens);
    expect(second.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(second.cache_creation_input_tokens).toBeLessThan(30);
  });

  it('pays everything as input without marks, and caches no prefix under minTokens', () => {
    const plain = new PromptCache().account(body(['hello'], false));
    expect(plain).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(plain.input_tokens).toBeGreaterThan(200);
    const strict = new PromptCache({ minTokens: 100_000 });
    strict.account(body(['hello'], true));
    expect(strict.account(body(['hello'], true))).toMatchObject({
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
  });

  it('misses when anything before the mark changed (another model, another system prompt)', () => {
    const cache = new PromptCache();
    cache.account(body(['hello'], true));
    expect(
      cache.account({ ...body(['hello'], true), model: 'other' }).cache_read_input_tokens,
    ).toBe(0);
    const changed = { ...body(['hello'], true), system: [text('t'.repeat(400), true)] };
    // The tools (before the system prompt) are still read.
    const r = cache.account(changed);
    expect(r.cache_read_input_tokens).toBeGreaterThan(0);
    expect(r.cache_read_input_tokens).toBeLessThan(150);
  });
});
