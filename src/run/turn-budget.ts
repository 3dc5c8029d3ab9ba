import crypto from 'node:crypto';
import type { TurnInput } from '../agent/agent-loop.js';
import { Budget, type BudgetLimits } from '../policy/budgets.js';
import type { EgressRun, GroupRunDeps, RunContext } from './run.js';

/** The limits of one turn: the host's, tightened by a task's own; undefined when none. */
function turnLimits(deps: GroupRunDeps, ctx: RunContext): BudgetLimits | undefined {
  const own = ctx.taskId !== undefined ? deps.taskBudget?.(ctx.taskId) : undefined;
  return deps.budget ? tighter(deps.budget, own) : undefined;
}

/**
 * Opens the group's egress for this run, under a fresh run id: the proxy counts the run's
 * requests and refuses past its limit at once, inside a tool call, and audits each under the
 * run and task. The caller ends it when the turn is over.
 */
export function openEgressRun(deps: GroupRunDeps, ctx: RunContext): EgressRun | undefined {
  const limit = turnLimits(deps, ctx)?.egressRequests;
  return deps.beginEgressRun?.(
    ctx.group.name,
    { runId: crypto.randomBytes(8).toString('hex'), taskId: ctx.taskId?.toString() },
    limit !== undefined ? { maxRequests: limit } : {},
  );
}

/**
 * The budget checks of one turn: the host's limits, tightened by a task's own; undefined
 * when the host sets none.
 */
export function turnBudget(
  deps: GroupRunDeps,
  ctx: RunContext,
  egress?: EgressRun,
): TurnInput['budget'] {
  const subject = ctx.taskId !== undefined ? `task #${ctx.taskId}` : 'this turn';
  const limits = turnLimits(deps, ctx);
  if (!limits) return undefined;
  const budget = new Budget(limits, { subject });
  const spent = (r: { ok: true } | { ok: false; reason: string }) => (r.ok ? undefined : r.reason);
  // Each check charges what the run's egress did since the last one, refusals for budget
  // included, so going over stops the run.
  let egressSeen = 0;
  const chargeEgress = () => {
    if (!egress) return undefined;
    const { requests, overBudget } = egress.usage();
    const delta = Math.max(0, requests + overBudget - egressSeen);
    egressSeen = requests + overBudget;
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
