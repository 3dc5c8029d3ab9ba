import type { Group } from '../store/groups.js';
import { decideGroupBudget } from '../usage/group-budget.js';
import { DEFAULT_PRICES } from '../usage/prices.js';
import { spendOf, startOfUtcDay } from '../usage/spend.js';
import type { GroupRunDeps, RunOutcome } from './run.js';

/**
 * Whether the group's daily budget lets a run start now; undefined when it does. Over budget
 * the run does not start: its messages stay stored (the cursor does not move) for a run
 * tomorrow or after the budget is raised. The owner is told once per group per UTC day; the
 * outcome carries the message for the chat.
 */
export function groupBudgetGate(deps: GroupRunDeps, group: Group): RunOutcome | undefined {
  const { store } = deps;
  const budget = store.groupBudgets.get(group.id);
  if (budget.tokens === undefined && budget.usd === undefined) return undefined;
  const now = deps.clock?.() ?? new Date();
  const since = startOfUtcDay(now);
  const prices = budget.usd !== undefined ? (deps.prices?.() ?? DEFAULT_PRICES) : DEFAULT_PRICES;
  const today = spendOf(store.usage.totals('model', since, group.id), prices);
  const decision = decideGroupBudget(group.name, budget, today.usage, today.usd);
  if (decision.run) return undefined;
  const day = since.toISOString().slice(0, 10);
  if (store.groupBudgets.markNotified(group.id, day)) deps.notifyOwner?.(decision.message);
  deps.log.warn(
    { group: group.name, ...today.usage, usd: today.usd },
    'run not started: group budget',
  );
  return { ok: false, kind: 'group_budget', error: decision.message, retryable: false };
}
