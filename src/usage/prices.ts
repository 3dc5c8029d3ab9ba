import { z } from 'zod';
import type { ModelUsage } from '../agent/model-provider.js';

/** USD per million tokens of one model. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Prices by model name; "*" is the price used for a model not listed. */
export type PriceTable = Record<string, ModelPrice>;

/** Shipped defaults; the owner's prices.json overrides them model by model. */
export const DEFAULT_PRICES: PriceTable = {
  'claude-opus-4': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'claude-sonnet-4': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25, cacheWrite: 2.5 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075, cacheWrite: 0.15 },
  '*': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
};

const perMillion = z.number().finite().nonnegative().max(100_000);
const priceSchema = z
  .object({ input: perMillion, output: perMillion, cacheRead: perMillion, cacheWrite: perMillion })
  .partial()
  .strict();
const fileSchema = z.record(z.string().min(1).max(200), priceSchema);

export class PriceFileError extends Error {}

/**
 * Reads the owner's prices.json text over the defaults. A model given in the file keeps the
 * defaults' values for fields it leaves out (or the "*" row for a model new to the table).
 * Bad input names the key that is wrong and how to fix it.
 */
export function parsePrices(text: string, source = 'prices.json'): PriceTable {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PriceFileError(
      `${source} is not valid JSON (${(error as Error).message}); fix it or delete it to use the defaults`,
    );
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || '(top level)';
    throw new PriceFileError(
      `${source}: ${key}: ${issue.message}; each model maps to { "input", "output", "cacheRead", "cacheWrite" } in USD per million tokens`,
    );
  }
  const table: PriceTable = { ...DEFAULT_PRICES };
  for (const [model, price] of Object.entries(parsed.data)) {
    const base = DEFAULT_PRICES[model] ?? DEFAULT_PRICES['*']!;
    table[model] = { ...base, ...price };
  }
  return table;
}

/** The price of a model: exact name, else the longest listed prefix (dated names), else "*". */
export function priceFor(table: PriceTable, model: string): ModelPrice {
  const exact = table[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const name of Object.keys(table)) {
    if (name !== '*' && model.startsWith(name) && (!best || name.length > best.length)) best = name;
  }
  return table[best ?? '*'] ?? DEFAULT_PRICES['*']!;
}

/** Estimated USD for the tokens of one or more requests to one model. */
export function costOf(usage: ModelUsage, price: ModelPrice): number {
  return (
    (usage.inputTokens * price.input +
      usage.outputTokens * price.output +
      usage.cacheReadTokens * price.cacheRead +
      usage.cacheWriteTokens * price.cacheWrite) /
    1_000_000
  );
}

/** Share of prompt tokens served from the cache, 0..1 (0 when nothing was sent). */
export function cacheHitRate(usage: ModelUsage): number {
  const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  return prompt === 0 ? 0 : usage.cacheReadTokens / prompt;
}

/** Dollars for people: cents from a cent up, two significant digits below (a local model's). */
export function formatUsd(usd: number): string {
  if (usd === 0 || usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}
