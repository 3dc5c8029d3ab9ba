import { describe, expect, it } from 'vitest';
import { decideGroupBudget } from './group-budget.js';

const used = (n: number) => ({
  inputTokens: n,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});

describe('decideGroupBudget', () => {
  it('runs while under every limit and with no limit', () => {
    expect(decideGroupBudget('main', {}, used(1e9), 1e6)).toEqual({ run: true });
    expect(decideGroupBudget('main', { tokens: 100, usd: 1 }, used(99), 0.99)).toEqual({
      run: true,
    });
  });

  it('pauses at the token limit saying what was spent and how to raise it', () => {
    const d = decideGroupBudget('main', { tokens: 1000 }, used(1200), 0);
    expect(d.run).toBe(false);
    if (!d.run) {
      expect(d.message).toContain('used 1,200 of its 1,000 tokens today');
      expect(d.message).toContain('groups set main --budget-tokens');
    }
  });

  it('pauses at the USD limit', () => {
    const d = decideGroupBudget('ops', { usd: 2 }, used(1), 2.5);
    expect(d).toMatchObject({ run: false, message: expect.stringContaining('$2.50 of its $2.00') });
  });
});
