import { describe, expect, it } from 'vitest';
import { Budget, type ChargeKind } from './budgets.js';

/** A clock the test moves by hand. */
class FakeClock {
  constructor(public ms: number) {}
  readonly read = (): Date => new Date(this.ms);
}

describe('Budget', () => {
  it.each<[ChargeKind, number, number, string]>([
    ['toolCalls', 50, 1, 'this task used its 50 tool calls; stopped'],
    ['toolCalls', 1, 1, 'this task used its 1 tool call; stopped'],
    ['modelTokens', 200_000, 40_000, 'this task used its 200,000 model tokens; stopped'],
    ['egressRequests', 100, 1, 'this task made its 100 network requests; stopped'],
  ])('allows %s up to %d, then stops with a sentence for the chat', (kind, limit, step, reason) => {
    const budget = new Budget({ [kind]: limit });
    for (let used = step; used <= limit; used += step) {
      expect(budget.charge(kind, step)).toEqual({ ok: true });
    }
    expect(budget.charge(kind, step)).toEqual({ ok: false, reason });
    expect(budget.usage()[kind]).toBe(limit + step);
  });

  it('stays spent once a limit is passed, giving the first reason for every kind', () => {
    const budget = new Budget({ toolCalls: 1, modelTokens: 10 });
    budget.charge('toolCalls');
    const stopped = budget.charge('toolCalls');
    expect(stopped.ok).toBe(false);
    expect(budget.charge('modelTokens', 100)).toEqual(stopped);
    expect(budget.charge('egressRequests')).toEqual(stopped);
    expect(budget.check()).toEqual(stopped);
  });

  it('leaves a kind without a limit unlimited', () => {
    const budget = new Budget({ toolCalls: 1 });
    expect(budget.charge('modelTokens', 10_000_000)).toEqual({ ok: true });
    expect(budget.charge('egressRequests', 5000)).toEqual({ ok: true });
  });

  it('measures wall time with its clock', () => {
    const clock = new FakeClock(1_000_000);
    const budget = new Budget(
      { wallTimeMs: 10 * 60_000 },
      { clock: clock.read, subject: 'this run' },
    );
    clock.ms += 4 * 60_000;
    expect(budget.check()).toEqual({ ok: true });
    expect(budget.remainingWallTimeMs()).toBe(6 * 60_000);
    clock.ms += 6 * 60_000 + 1;
    expect(budget.charge('toolCalls')).toEqual({
      ok: false,
      reason: 'this run ran for its 10 minutes; stopped',
    });
    expect(budget.remainingWallTimeMs()).toBe(0);
    expect(budget.usage()).toEqual({
      toolCalls: 1,
      modelTokens: 0,
      egressRequests: 0,
      wallTimeMs: 10 * 60_000 + 1,
    });
  });

  it('has no wall-time deadline without a limit', () => {
    expect(new Budget({}).remainingWallTimeMs()).toBe(Infinity);
  });

  it.each([
    ['a negative limit', () => new Budget({ toolCalls: -1 })],
    ['a fractional limit', () => new Budget({ modelTokens: 1.5 })],
    ['a negative charge', () => new Budget({}).charge('toolCalls', -1)],
  ])('refuses %s as a bug', (_name, act) => {
    expect(act).toThrow(RangeError);
  });
});
