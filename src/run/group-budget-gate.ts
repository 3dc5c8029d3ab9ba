import type { Group } from '../store/groups.js';
import { decideGroupBudget } from '../usage/group-budget.js';
import { DEFAULT_PRICES } from '../usage/prices.js';
import { spendOf, startOfUtcDay } from '../usage/spend.js';
import type { GroupRunDeps, RunOutcome } from './run.js';
import type { Store } from '../store/store.js';
import type { PriceTable } from '../usage/prices.js';

/** Today's (UTC) verdict of the group's budget; undefined when the group has none. */
function budgetVerdict(store: Store, group: Group, prices: () => PriceTable, now: Date) {
  const budget = store.groupBudgets.get(group.id);
  if (budget.tokens === undefined && budget.usd === undefined) return undefined;
  const since = startOfUtcDay(now);
  const table = budget.usd !== undefined ? prices() : DEFAULT_PRICES;
  const today = spendOf(store.usage.totals('model', since, group.id), table);
  return { decision: decideGroupBudget(group.name, budget, today.usage, today.usd), today, since };
}

/**
 * Whether a group its budget paused may run again now (a new UTC day, or a raised budget),
 * without telling anyone: for the host's sweep that answers the messages kept meanwhile.
 */
export function budgetAllowsNow(
  store: Store,
  group: Group,
  prices: () => PriceTable,
  now: Date,
): boolean {
  return budgetVerdict(store, group, prices, now)?.decision.run ?? true;
}

/**
 * Whether the group's daily budget lets a run start now; undefined when it does. Over budget
 * the run does not start: its messages stay stored (the cursor does not move) for a run
 * tomorrow or after the budget is raised. The owner is told once per group per UTC day; the
 * outcome carries the message for the chat.
 */
export function groupBudgetGate(deps: GroupRunDeps, group: Group): RunOutcome | undefined {
  const { store } = deps;
  const now = deps.clock?.() ?? new Date();
  const verdict = budgetVerdict(store, group, () => deps.prices?.() ?? DEFAULT_PRICES, now);
  if (!verdict) return undefined;
  const { decision, today, since } = verdict;
  if (decision.run) return undefined;
  const day = since.toISOString().slice(0, 10);
  if (store.groupBudgets.markNotified(group.id, day)) deps.notifyOwner?.(decision.message);
  deps.log.warn(
    { group: group.name, ...today.usage, usd: today.usd },
    'run not started: group budget',
  );
  return { ok: false, kind: 'group_budget', error: decision.message, retryable: false };
}
