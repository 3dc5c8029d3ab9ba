import type { TurnInput } from '../agent/agent-loop.js';
import { Budget, type BudgetLimits } from '../policy/budgets.js';
import type { GroupRunDeps, RunContext } from './run.js';

/**
 * The budget checks of one turn: the host's limits, tightened by a task's own; undefined
 * when the host sets none.
 */
export function turnBudget(deps: GroupRunDeps, ctx: RunContext): TurnInput['budget'] {
  const subject = ctx.taskId !== undefined ? `task #${ctx.taskId}` : 'this turn';
  const own = ctx.taskId !== undefined ? deps.taskBudget?.(ctx.taskId) : undefined;
  const limits = deps.budget ? tighter(deps.budget, own) : undefined;
  if (!limits) return undefined;
  const budget = new Budget(limits, { subject });
  const spent = (r: { ok: true } | { ok: false; reason: string }) => (r.ok ? undefined : r.reason);
  // Egress is counted by the proxy; each check charges what it did since the last one.
  let egressSeen = deps.egressRequests?.(ctx.group.name) ?? 0;
  const chargeEgress = () => {
    if (!deps.egressRequests) return undefined;
    const now = deps.egressRequests(ctx.group.name);
    const delta = Math.max(0, now - egressSeen);
    egressSeen = now;
    return spent(budget.charge('egressRequests', delta));
  };
  return {
    beforeToolCall: () => chargeEgress() ?? spent(budget.charge('toolCalls')),
    afterModel: (u) =>
      chargeEgress() ?? spent(budget.charge('modelTokens', u.inputTokens + u.outputTokens)),
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
