import type { ModelUsage } from '../agent/model-provider.js';
import { formatUsd } from './prices.js';

/** A group's daily limit; a kind left out is unlimited. */
export interface GroupDayBudget {
  tokens?: number;
  usd?: number;
}

export type BudgetDecision = { run: true } | { run: false; message: string };

const tokensOf = (u: ModelUsage): number =>
  u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;

/**
 * Whether a group may start another run today, given what it has used since the start of
 * the day (UTC). A paused group's messages stay stored; the message says what was spent
 * and how to raise the budget or wait for the next day.
 */
export function decideGroupBudget(
  group: string,
  budget: GroupDayBudget,
  usedToday: ModelUsage,
  usdToday: number,
): BudgetDecision {
  const tokens = tokensOf(usedToday);
  const how =
    `Messages are kept and run when the budget allows: tomorrow (UTC), or now with ` +
    `\`./nanocell groups set ${group} --budget-tokens N\` / \`--budget-usd X\`.`;
  if (budget.tokens !== undefined && tokens >= budget.tokens) {
    return {
      run: false,
      message: `Group ${group} used ${tokens.toLocaleString('en-US')} of its ${budget.tokens.toLocaleString('en-US')} tokens today; runs are paused. ${how}`,
    };
  }
  if (budget.usd !== undefined && usdToday >= budget.usd) {
    return {
      run: false,
      message: `Group ${group} spent about ${formatUsd(usdToday)} of its ${formatUsd(budget.usd)} today; runs are paused. ${how}`,
    };
  }
  return { run: true };
}
