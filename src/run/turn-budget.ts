import type { TurnBudget } from '../agent/agent-loop.js';
import type { BudgetLimits } from '../policy/budgets.js';
import { RunBudget } from '../policy/run-budget.js';
import { egressGuard } from '../guard/egress-guard.js';
import type { EgressRun, GroupRunDeps, RunContext } from './run.js';

/** The limits of one run: the host's, tightened by a task's own. */
function runLimits(deps: GroupRunDeps, ctx: RunContext): BudgetLimits {
  const own = ctx.taskId !== undefined ? deps.taskBudget?.(ctx.taskId) : undefined;
  return tighter(deps.budget ?? {}, own);
}

/** The budget of one run: wall time, tool calls, tokens and egress, with one AbortSignal. */
export function runBudgetFor(deps: GroupRunDeps, ctx: RunContext): RunBudget {
  const subject = ctx.taskId !== undefined ? `task #${ctx.taskId}` : 'this turn';
  return new RunBudget(runLimits(deps, ctx), { subject, ...deps.budgetTime });
}

/**
 * Opens the group's egress for this run, under its run id: the proxy counts the run's
 * requests and refuses past its limit at once, inside a tool call, and audits each under the
 * run and task. The caller ends it when the turn is over.
 */
export function openEgressRun(
  deps: GroupRunDeps,
  ctx: RunContext,
  runId: string,
): EgressRun | undefined {
  const limit = runLimits(deps, ctx).egressRequests;
  return deps.beginEgressRun?.(
    ctx.group.name,
    {
      runId,
      taskId: ctx.taskId?.toString(),
      untrusted: () =>
        deps.settings?.guard !== false && deps.store.provenance.get(ctx.group.id).untrusted,
      guard:
        deps.settings?.guard === false
          ? undefined
          : egressGuard(() => deps.store.provenance.get(ctx.group.id), {
              admin: ctx.group.isAdmin,
              extraMounts: deps.store.groups.mountRequests(ctx.group.id).length > 0,
            }),
    },
    limit !== undefined ? { maxRequests: limit } : {},
  );
}

/**
 * The run's budget as the agent loop sees it. Each charge first charges what the run's
 * egress did since the last one, refusals for budget included, so going over stops the run.
 */
export function turnBudget(budget: RunBudget, egress?: EgressRun): TurnBudget {
  let egressSeen = 0;
  const chargeEgress = () => {
    if (!egress) return;
    const { requests, overBudget } = egress.usage();
    budget.charge('egressRequests', Math.max(0, requests + overBudget - egressSeen));
    egressSeen = requests + overBudget;
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
