import type { Base } from '../app.js';
import type { GroupDayBudget } from '../usage/group-budget.js';
import { formatUsd } from '../usage/prices.js';

/** What `--budget-tokens` / `--budget-usd` say: a number, `none` (null), or absent. */
export interface BudgetArgs {
  budgetTokens?: string | undefined;
  budgetUsd?: string | undefined;
}

const MAX_TOKENS = 1e12;
const MAX_USD = 1e6;

/** The change the flags ask for, or what is wrong with them. */
export function parseBudgetArgs(
  args: BudgetArgs,
):
  | { ok: true; change: { tokens?: number | null; usd?: number | null } }
  | { ok: false; problem: string } {
  const change: { tokens?: number | null; usd?: number | null } = {};
  if (args.budgetTokens !== undefined) {
    const v = args.budgetTokens.trim();
    if (v === 'none') change.tokens = null;
    else if (/^\d{1,13}$/.test(v) && Number(v) <= MAX_TOKENS) change.tokens = Number(v);
    else {
      return {
        ok: false,
        problem: `--budget-tokens "${args.budgetTokens}": give whole tokens per day (e.g. 200000, at most ${MAX_TOKENS}) or none`,
      };
    }
  }
  if (args.budgetUsd !== undefined) {
    const v = args.budgetUsd.trim().replace(/^\$/, '');
    if (v === 'none') change.usd = null;
    else if (/^\d{1,7}(\.\d{1,6})?$/.test(v) && Number(v) <= MAX_USD) change.usd = Number(v);
    else {
      return {
        ok: false,
        problem: `--budget-usd "${args.budgetUsd}": give US dollars per day (e.g. 2.50, at most ${MAX_USD}) or none`,
      };
    }
  }
  return { ok: true, change };
}

/** One line for `groups list` and `groups set`. */
export function describeBudget(budget: GroupDayBudget): string {
  const parts = [
    ...(budget.tokens !== undefined ? [`${budget.tokens.toLocaleString('en-US')} tokens`] : []),
    ...(budget.usd !== undefined ? [formatUsd(budget.usd)] : []),
  ];
  return parts.length > 0 ? `budget ${parts.join(' / ')} a day` : 'no budget';
}

/** `groups set NAME --budget-tokens N|none --budget-usd X|none`: from the group's next run on. */
export function setBudget(
  base: Base,
  group: { id: number; name: string },
  change: { tokens?: number | null; usd?: number | null },
): string {
  const budget = base.store.groupBudgets.set(group.id, change);
  const shown = describeBudget(budget);
  base.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by: 'owner (cli)',
    summary: shown,
  });
  return `${group.name}: ${shown} (UTC days), from its next run on\n`;
}
