import type { TurnBudget } from '../agent/agent-loop.js';
import type { BudgetLimits } from '../policy/budgets.js';
import { RunBudget } from '../policy/run-budget.js';
import type { GroupRunDeps, RunContext } from './run.js';

/** The budget of one run: the host's limits, tightened by a task's own. */
export function runBudgetFor(deps: GroupRunDeps, ctx: RunContext): RunBudget {
  const subject = ctx.taskId !== undefined ? `task #${ctx.taskId}` : 'this turn';
  const own = ctx.taskId !== undefined ? deps.taskBudget?.(ctx.taskId) : undefined;
  return new RunBudget(tighter(deps.budget ?? {}, own), { subject, ...deps.budgetTime });
}

/**
 * The run's budget as the agent loop sees it. Egress is counted by the proxy; each charge
 * first charges what the group's proxy did since the last one.
 */
export function turnBudget(deps: GroupRunDeps, ctx: RunContext, budget: RunBudget): TurnBudget {
  const requests = deps.egressRequests;
  let egressSeen = requests?.(ctx.group.name) ?? 0;
  const chargeEgress = () => {
    if (!requests) return;
    const now = requests(ctx.group.name);
    budget.charge('egressRequests', Math.max(0, now - egressSeen));
    egressSeen = now;
  };
  return {
    signal: budget.signal,
    charge: (kind, amount) => {
      chargeEgress();
      return budget.charge(kind, amount);
    },
  };
}

/** Each limit is the smaller of the host's default and the task's own. */
export function tighter(defaults: BudgetLimits, own: BudgetLimits | undefined): BudgetLimits {
  if (!own) return defaults;
  const out: BudgetLimits = { ...defaults };
  for (const [k, v] of Object.entries(own) as Array<[keyof BudgetLimits, number | undefined]>) {
    if (v !== undefined) out[k] = Math.min(v, defaults[k] ?? v);
  }
  return out;
}
