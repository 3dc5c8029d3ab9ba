import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from './store.js';
import { UsageStore } from './usage.js';

describe('UsageStore', () => {
  let store: Store;
  let usage: UsageStore;
  let main: number;
  let other: number;
  beforeEach(() => {
    store = Store.open(':memory:');
    usage = new UsageStore(store.db);
    main = store.groups.create({ name: 'main', isAdmin: true }).id;
    other = store.groups.create({ name: 'other', isAdmin: false }).id;
  });
  afterEach(() => store.close());

  const row = (groupId: number, model: string, at: string, input: number) => ({
    runId: 'r1',
    groupId,
    provider: 'anthropic',
    model,
    inputTokens: input,
    outputTokens: 10,
    cacheReadTokens: 5,
    cacheWriteTokens: 1,
    at: new Date(at),
  });

  it('sums tokens by group, model and day since a time, optionally for one group', () => {
    usage.record(row(main, 'm1', '2026-12-01T10:00:00Z', 100));
    usage.record(row(main, 'm1', '2026-12-02T10:00:00Z', 200));
    usage.record(row(main, 'm2', '2026-12-02T11:00:00Z', 50));
    usage.record(row(other, 'm1', '2026-12-02T12:00:00Z', 7));
    usage.record(row(other, 'm1', '2026-11-01T12:00:00Z', 1000));
    const since = new Date('2026-12-01T00:00:00Z');
    expect(usage.totals('model', since, main)).toEqual([
      {
        key: 'm1',
        model: 'm1',
        requests: 2,
        inputTokens: 300,
        outputTokens: 20,
        cacheReadTokens: 10,
        cacheWriteTokens: 2,
      },
      {
        key: 'm2',
        model: 'm2',
        requests: 1,
        inputTokens: 50,
        outputTokens: 10,
        cacheReadTokens: 5,
        cacheWriteTokens: 1,
      },
    ]);
    expect(usage.totals('day', since).map((t) => [t.key, t.model, t.inputTokens])).toEqual([
      ['2026-12-01', 'm1', 100],
      ['2026-12-02', 'm1', 207],
      ['2026-12-02', 'm2', 50],
    ]);
    expect(usage.totals('group', since).map((t) => [t.key, t.inputTokens])).toEqual([
      [String(main), 300],
      [String(main), 50],
      [String(other), 7],
    ]);
  });

  it('refuses token counts that are not whole numbers', () => {
    expect(() => usage.record({ ...row(main, 'm', '2026-12-02T00:00:00Z', -1) })).toThrow(
      /input tokens/,
    );
  });
});
