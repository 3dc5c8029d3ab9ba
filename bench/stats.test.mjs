import { describe, expect, it } from 'vitest';
import { formatNumber, median, percentile, ratio, summarize } from './stats.mjs';

describe('median', () => {
  it.each([
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[], Number.NaN],
  ])('of %j is %d', (samples, expected) => {
    expect(median(samples)).toBe(expected);
  });
});

describe('percentile', () => {
  it.each([
    // Nearest rank: with few samples p95 is the largest one, a value some run produced.
    [[1, 2, 3], 95, 3],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
    [Array.from({ length: 20 }, (_, i) => 20 - i), 95, 19],
    [[7], 50, 7],
  ])('of %j at %d is %d', (samples, p, expected) => {
    expect(percentile(samples, p)).toBe(expected);
  });

  it('refuses a percentile outside (0, 100]', () => {
    expect(() => percentile([1], 0)).toThrow(/percentile must be in/);
  });
});

describe('summarize', () => {
  it('reports median, p95, min, max and the sample count', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, p95: 4, min: 1, max: 4, n: 4 });
  });
});

describe('ratio', () => {
  it.each([
    [{ median: 6 }, { median: 3 }, 2],
    [{ median: 6 }, { median: 0 }, null],
    [{ median: 6 }, undefined, null],
    [{ median: Number.NaN }, { median: 3 }, null],
  ])('of %j over %j is %s', (value, baseline, expected) => {
    expect(ratio(value, baseline)).toBe(expected);
  });
});

describe('formatNumber', () => {
  it.each([
    [1234.5, '1,235'],
    [12.345, '12.3'],
    [1.2345, '1.23'],
    [0.12345, '0.123'],
    [Number.NaN, '-'],
    [null, '-'],
  ])('shows %s as %s', (x, expected) => {
    expect(formatNumber(x)).toBe(expected);
  });
});
