import { describe, expect, it } from 'vitest';
import type { UsageTotals } from '../store/usage.js';
import { DEFAULT_PRICES, parsePrices } from './prices.js';
import { formatUsageTable, usageRows } from './usage-report.js';

const row = (key: string, model: string, i: number, o: number, r = 0, w = 0): UsageTotals => ({
  key,
  model,
  requests: 2,
  inputTokens: i,
  outputTokens: o,
  cacheReadTokens: r,
  cacheWriteTokens: w,
});

describe('the usage report', () => {
  it('adds up each key over its models, each model at its own price', () => {
    const { rows, total } = usageRows(
      [
        row('1', 'claude-sonnet-4-20250514', 1_000_000, 0),
        row('1', 'gpt-4o-mini', 1_000_000, 0),
        row('2', 'claude-sonnet-4', 0, 0, 1_000_000),
      ],
      DEFAULT_PRICES,
      (k) => (k === '1' ? 'main' : 'family'),
    );
    expect(rows.map((r) => [r.label, r.requests, r.usage.inputTokens, r.usd])).toEqual([
      ['main', 4, 2_000_000, 3 + 0.15],
      ['family', 2, 0, 0.3],
    ]);
    expect(total.usd).toBeCloseTo(3.45);
    expect(total.usage.cacheReadTokens).toBe(1_000_000);
  });

  it('prints aligned columns with the cache hit rate, the cost and a total', () => {
    const prices = parsePrices('{"fake-model": {"input": 3, "output": 15, "cacheRead": 0.3}}');
    const report = usageRows(
      [row('main', 'fake-model', 1200, 300, 3600, 1200), row('ops', 'fake-model', 10, 5)],
      prices,
    );
    expect(formatUsageTable('group', report, true)).toBe(
      [
        'group  requests  input  output  cache read  cache write  cache hit  cost (est.)',
        '-----  --------  -----  ------  ----------  -----------  ---------  -----------',
        'main          2  1,200     300       3,600        1,200      60.0%        $0.01',
        'ops           2     10       5           0            0       0.0%     $0.00011',
        '-----  --------  -----  ------  ----------  -----------  ---------  -----------',
        'total         4  1,210     305       3,600        1,200      59.9%        $0.01',
        '',
      ].join('\n'),
    );
  });

  it('leaves the cost out when the price file is bad, the tokens still shown', () => {
    const text = formatUsageTable(
      'day',
      usageRows([row('2026-12-03', 'm', 5, 1)], DEFAULT_PRICES),
      false,
    );
    expect(text).not.toContain('cost');
    expect(text).toContain('2026-12-03');
  });
});
