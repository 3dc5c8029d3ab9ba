import type { UsageTotals } from '../store/usage.js';
import { cacheHitRate, formatUsd, type PriceTable } from './prices.js';
import { spendOf, type Spend } from './spend.js';

export interface ReportRow extends Spend {
  label: string;
}

/**
 * Rows of `nanocell usage`, one per key (a key's models each priced at their own rate), in
 * the store's key order, and the total of them all. `labelOf` names a key (a group id → name).
 */
export function usageRows(
  totals: readonly UsageTotals[],
  prices: PriceTable,
  labelOf: (key: string) => string = (k) => k,
): { rows: ReportRow[]; total: Spend } {
  const byKey = new Map<string, UsageTotals[]>();
  for (const t of totals) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t]);
  const rows = [...byKey].map(([key, list]) => ({ label: labelOf(key), ...spendOf(list, prices) }));
  return { rows, total: spendOf(totals, prices) };
}

const n = (v: number) => v.toLocaleString('en-US');
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/**
 * The table: requests, input (uncached) / output / cache read / cache write tokens, the cache
 * hit rate (cache read ÷ all prompt tokens) and the estimated cost; without `withCost` (the
 * price file is bad) the cost column is left out.
 */
export function formatUsageTable(
  heading: string,
  report: { rows: ReportRow[]; total: Spend },
  withCost: boolean,
): string {
  const head = [heading, 'requests', 'input', 'output', 'cache read', 'cache write', 'cache hit'];
  if (withCost) head.push('cost (est.)');
  const cells = (label: string, s: Spend) => {
    const line = [
      label,
      n(s.requests),
      n(s.usage.inputTokens),
      n(s.usage.outputTokens),
      n(s.usage.cacheReadTokens),
      n(s.usage.cacheWriteTokens),
      pct(cacheHitRate(s.usage)),
    ];
    if (withCost) line.push(formatUsd(s.usd));
    return line;
  };
  const lines = [head, ...report.rows.map((r) => cells(r.label, r)), cells('total', report.total)];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const render = (l: string[]) =>
    l
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [render(head), rule, ...lines.slice(1, -1).map(render), rule, render(lines.at(-1)!)]
    .join('\n')
    .concat('\n');
}
