import { describe, expect, it } from 'vitest';
import { BudgetExceededError } from './budgets.js';
import { manualTime } from '../../test/support/manual-time.js';
import { RunBudget } from './run-budget.js';

describe('RunBudget', () => {
  it('fires its signal with the reason for the chat once a counter passes its limit', () => {
    const budget = new RunBudget({ toolCalls: 2 }, { subject: 'this turn' });
    expect(budget.charge('toolCalls')).toEqual({ ok: true });
    expect(budget.charge('toolCalls')).toEqual({ ok: true });
    expect(budget.signal.aborted).toBe(false);

    const over = budget.charge('toolCalls');

    expect(over).toEqual({ ok: false, reason: 'this turn used its 2 tool calls; stopped' });
    expect(budget.signal.aborted).toBe(true);
    expect(budget.signal.reason).toBeInstanceOf(BudgetExceededError);
    expect((budget.signal.reason as Error).message).toBe(over.ok ? '' : over.reason);
  });

  it('takes egress charges from the egress manager and stops on the first request too many', () => {
    const budget = new RunBudget({ egressRequests: 3 }, { subject: 'task #4' });
    expect(budget.charge('egressRequests', 3).ok).toBe(true);

    expect(budget.charge('egressRequests', 1)).toEqual({
      ok: false,
      reason: 'task #4 made its 3 network requests; stopped',
    });
    expect(budget.signal.aborted).toBe(true);
    expect(budget.usage().egressRequests).toBe(4);
  });

  it('keeps the first reason when later limits pass as well', () => {
    const budget = new RunBudget({ toolCalls: 0, modelTokens: 10 }, { subject: 'this turn' });
    budget.charge('toolCalls');
    const later = budget.charge('modelTokens', 100);
    expect(later).toEqual({ ok: false, reason: 'this turn used its 0 tool calls; stopped' });
  });

  it('fires its signal when the wall time is up, with nobody charging anything', () => {
    const time = manualTime();
    const budget = new RunBudget(
      { wallTimeMs: 5_000 },
      { subject: 'this turn', clock: time.clock, timers: time.timers },
    );
    time.advance(4_999);
    expect(budget.signal.aborted).toBe(false);

    time.advance(2);

    expect(budget.signal.aborted).toBe(true);
    expect((budget.signal.reason as Error).message).toBe(
      'this turn ran for its 5 seconds; stopped',
    );
  });

  it('sets no timer without a wall-time limit and clears its timer on dispose', () => {
    const time = manualTime();
    new RunBudget({ toolCalls: 1 }, { subject: 'x', clock: time.clock, timers: time.timers });
    expect(time.pending()).toBe(0);

    const timed = new RunBudget(
      { wallTimeMs: 1_000 },
      { subject: 'x', clock: time.clock, timers: time.timers },
    );
    expect(time.pending()).toBe(1);
    timed.dispose();
    expect(time.pending()).toBe(0);
    time.advance(10_000);
    expect(timed.signal.aborted).toBe(false);
  });

  it('refuses a limit that is not a whole number, saying which', () => {
    expect(() => new RunBudget({ toolCalls: 1.5 }, { subject: 'x' })).toThrow(
      /budget limit toolCalls must be a whole number/,
    );
  });
});
