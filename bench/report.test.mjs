import { describe, expect, it } from 'vitest';
import { figureMarkdown, row } from './report.mjs';

const s = (median) => ({ median, p95: median, min: median, max: median, n: 3 });

describe('row', () => {
  it.each([
    { name: 'met', value: s(10), baseline: s(5), limit: 3, ratio: 2, meets: true },
    { name: 'missed', value: s(20), baseline: s(5), limit: 3, ratio: 4, meets: false },
    {
      name: 'without baseline',
      value: s(20),
      baseline: undefined,
      limit: 3,
      ratio: null,
      meets: null,
    },
  ])('computes the ratio and target ($name)', ({ value, baseline, limit, ratio, meets }) => {
    const r = row({
      label: 'x',
      value,
      baseline,
      meets: (_v, q) => (q === null ? null : q <= limit),
    });
    expect(r.ratio).toBe(ratio);
    expect(r.meets).toBe(meets);
  });

  it('reports no target verdict when the line has no target', () => {
    expect(row({ label: 'x', value: s(1) }).meets).toBeNull();
  });
});

describe('figureMarkdown', () => {
  it('escapes pipes in labels so the table keeps its columns', () => {
    const md = figureMarkdown({
      id: 1,
      title: 't',
      unit: 'ms',
      target: 'none',
      rows: [row({ label: 'a | b', value: s(1), baselineLabel: 'c', baseline: s(2) })],
    });
    const line = md.split('\n').find((l) => l.startsWith('| a'));
    expect(line).toContain('a \\| b');
    expect(line).toContain('0.50×');
  });
});
