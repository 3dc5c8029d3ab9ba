import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PRICES,
  PriceFileError,
  cacheHitRate,
  costOf,
  parsePrices,
  priceFor,
} from './prices.js';

const usage = (i: number, o: number, r = 0, w = 0) => ({
  inputTokens: i,
  outputTokens: o,
  cacheReadTokens: r,
  cacheWriteTokens: w,
});

describe('price table', () => {
  it('overrides a default model field by field and adds new models from "*"', () => {
    const table = parsePrices(
      JSON.stringify({ 'gpt-4o': { input: 5 }, 'local-llama': { output: 0 } }),
    );
    expect(table['gpt-4o']).toEqual({ ...DEFAULT_PRICES['gpt-4o'], input: 5 });
    expect(table['local-llama']).toEqual({ ...DEFAULT_PRICES['*'], output: 0 });
    expect(table['claude-sonnet-4']).toEqual(DEFAULT_PRICES['claude-sonnet-4']);
  });

  it('names the bad key and the expected shape', () => {
    expect(() => parsePrices('{"gpt-4o": {"input": -1}}')).toThrow(PriceFileError);
    expect(() => parsePrices('{"gpt-4o": {"input": -1}}')).toThrow(/gpt-4o\.input/);
    expect(() => parsePrices('{"gpt-4o": {"inptu": 1}}')).toThrow(/gpt-4o.*inptu|inptu/);
    expect(() => parsePrices('{"gpt-4o": "cheap"}')).toThrow(/gpt-4o:.*USD per million/);
    expect(() => parsePrices('{oops', '/h/prices.json')).toThrow(
      /\/h\/prices\.json is not valid JSON/,
    );
  });

  it('finds dated model names by prefix and falls back to "*"', () => {
    expect(priceFor(DEFAULT_PRICES, 'claude-sonnet-4-20250514')).toBe(
      DEFAULT_PRICES['claude-sonnet-4'],
    );
    expect(priceFor(DEFAULT_PRICES, 'gpt-4o-mini-2024')).toBe(DEFAULT_PRICES['gpt-4o-mini']);
    expect(priceFor(DEFAULT_PRICES, 'mystery')).toBe(DEFAULT_PRICES['*']);
  });
});

describe('cost math', () => {
  it('prices every kind of token per million', () => {
    const price = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
    expect(costOf(usage(1_000_000, 0), price)).toBeCloseTo(3);
    expect(costOf(usage(1000, 2000, 10_000, 4000), price)).toBeCloseTo(
      0.003 + 0.03 + 0.003 + 0.015,
    );
  });

  it('reports the cache hit rate over all prompt tokens', () => {
    expect(cacheHitRate(usage(0, 0))).toBe(0);
    expect(cacheHitRate(usage(100, 50, 300, 100))).toBeCloseTo(0.6);
  });
});
