import type { ModelUsage } from '../agent/model-provider.js';
import type { UsageTotals } from '../store/usage.js';
import { costOf, priceFor, type PriceTable } from './prices.js';

/** Midnight UTC of `now`'s day: a group's budget is per UTC day. */
export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export interface Spend {
  requests: number;
  usage: ModelUsage;
  /** Estimated from the price table, each model at its own price. */
  usd: number;
}

/** What a set of usage rows (one or more models) adds up to. */
export function spendOf(rows: readonly UsageTotals[], prices: PriceTable): Spend {
  const out: Spend = {
    requests: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    usd: 0,
  };
  for (const r of rows) {
    out.requests += r.requests;
    out.usage.inputTokens += r.inputTokens;
    out.usage.outputTokens += r.outputTokens;
    out.usage.cacheReadTokens += r.cacheReadTokens;
    out.usage.cacheWriteTokens += r.cacheWriteTokens;
    out.usd += costOf(r, priceFor(prices, r.model));
  }
  return out;
}
