import { Store } from '../store/store.js';
import { describe, expect, it } from 'vitest';
import type { Group } from '../store/groups.js';
import type { EgressRun, GroupRunDeps, RunContext } from './run.js';
import { openEgressRun, runBudgetFor, turnBudget } from './turn-budget.js';

/** An egress run whose usage the test sets, as the proxy would count it. */
function fakeEgressRun(): EgressRun & { set(requests: number, overBudget: number): void } {
  let usage = { requests: 0, overBudget: 0 };
  return {
    usage: () => usage,
    pass: () => 'unused',
    end: () => undefined,
    set: (requests, overBudget) => (usage = { requests, overBudget }),
  };
}

const group = { id: 1, name: 'family', isAdmin: false } as Group;

function deps(extra: Partial<GroupRunDeps>): GroupRunDeps {
  return { budget: { egressRequests: 5 }, store: Store.open(':memory:'), ...extra } as GroupRunDeps;
}

describe('the egress of one run', () => {
  it("opens egress under the run's id with the task and its tighter request limit", () => {
    const opened: unknown[] = [];
    const d = deps({
      taskBudget: () => ({ egressRequests: 3 }),
      beginEgressRun: (groupName, identity, limits) => {
        opened.push({ groupName, identity, limits });
        return fakeEgressRun();
      },
    });
    const ctx: RunContext = { group, channel: 'web', chatId: 'c', taskId: 7 };
    openEgressRun(d, ctx, '00112233aabbccdd');
    openEgressRun(d, ctx, '44556677eeff0011');
    expect(opened).toEqual([
      {
        groupName: 'family',
        identity: {
          runId: '00112233aabbccdd',
          taskId: '7',
          untrusted: expect.any(Function),
          guard: expect.any(Function),
        },
        limits: { maxRequests: 3 },
      },
      expect.anything(),
    ]);
    const ids = opened.map((o) => (o as { identity: { runId: string } }).identity.runId);
    expect(new Set(ids).size).toBe(2);
  });

  it('stops the run once the proxy has refused requests past the limit, inside one tool call', () => {
    const egress = fakeEgressRun();
    const ctx: RunContext = { group, channel: 'web', chatId: 'c' };
    const run = runBudgetFor(deps({}), ctx);
    const budget = turnBudget(run, egress);
    expect(budget.charge('toolCalls', 1)).toEqual({ ok: true });
    // The tool call made 5 requests and was refused 995 more: the next charge stops the run.
    egress.set(5, 995);
    expect(budget.charge('modelTokens', 2)).toEqual({
      ok: false,
      reason: 'this turn made its 5 network requests; stopped',
    });
    expect(budget.signal.aborted).toBe(true);
  });

  it('does not stop a run that stayed within its requests', () => {
    const egress = fakeEgressRun();
    const run = runBudgetFor(deps({}), { group, channel: 'web', chatId: 'c' });
    const budget = turnBudget(run, egress);
    egress.set(5, 0);
    expect(budget.charge('toolCalls', 1)).toEqual({ ok: true });
    expect(budget.signal.aborted).toBe(false);
  });
});
