import type { BudgetTimers } from '../../src/policy/run-budget.js';

/** A clock and timers a test moves by hand: `advance` moves the clock and fires what is due. */
export function manualTime() {
  let now = 0;
  let nextId = 1;
  const due: Array<{ at: number; fn: () => void; id: number }> = [];
  const timers: BudgetTimers = {
    setTimeout: (fn, ms) => {
      const id = nextId++;
      due.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      const i = due.findIndex((t) => t.id === id);
      if (i >= 0) due.splice(i, 1);
    },
  };
  const advance = (ms: number): void => {
    now += ms;
    for (const t of due.filter((d) => d.at <= now)) {
      due.splice(due.indexOf(t), 1);
      t.fn();
    }
  };
  return { clock: () => new Date(now), timers, advance, pending: () => due.length };
}
