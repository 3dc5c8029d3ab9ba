import type {
  GroupUsage,
  UsageInfo,
  UsageNumbers,
} from '../channels/web/dashboard-types-groups.js';
import type { Store } from '../store/store.js';
import { readPriceFile } from '../usage/price-file.js';
import { parseSince } from '../usage/since.js';
import { startOfUtcDay, type Spend } from '../usage/spend.js';
import { usageRows } from '../usage/usage-report.js';

const numbers = (s: Spend | undefined): UsageNumbers => ({
  requests: s?.requests ?? 0,
  inputTokens: s?.usage.inputTokens ?? 0,
  outputTokens: s?.usage.outputTokens ?? 0,
  cacheReadTokens: s?.usage.cacheReadTokens ?? 0,
  cacheWriteTokens: s?.usage.cacheWriteTokens ?? 0,
  usd: s?.usd ?? 0,
});

/**
 * Tokens and estimated cost per group, today (UTC, as budgets count), the last 7 and 30 days:
 * the rows `nanocell usage --since ... --by group` prints, from the same functions.
 */
export function dashboardUsage(store: Store, configDir: string, now: Date): UsageInfo {
  const prices = readPriceFile(configDir);
  const span = (text: string) => {
    const since = parseSince(text, now);
    if (!since.ok) throw new Error(`usage span ${text}: ${since.problem}`);
    return since.since;
  };
  const bySince = (since: Date): Map<string, Spend> =>
    new Map(
      usageRows(store.usage.totals('group', since), prices.table).rows.map((r) => [r.label, r]),
    );
  const today = bySince(startOfUtcDay(now));
  const week = bySince(span('7d'));
  const month = bySince(span('30d'));
  const groups = store.groups.list().map((g): GroupUsage => {
    const key = String(g.id);
    const budget = store.groupBudgets.get(g.id);
    return {
      group: g.name,
      today: numbers(today.get(key)),
      week: numbers(week.get(key)),
      month: numbers(month.get(key)),
      budget: { tokens: budget.tokens ?? null, usd: budget.usd ?? null },
    };
  });
  return { withCost: !prices.problem, problem: prices.problem ?? null, groups };
}
