import { describe, expect, it } from 'vitest';
import { formatHostEvent, HostEvents } from './host-events.js';

const at = new Date('2026-12-01T21:40:03Z');

describe('formatHostEvent', () => {
  it.each([
    [
      { type: 'run_finished', group: 'main', toolCalls: 1, source: 'web:owner' },
      '21:40:03 run finished: main (web:owner, 1 tool call)',
    ],
    [
      { type: 'run_failed', group: 'family', error: 'rate limited', source: 'terminal:family' },
      '21:40:03 run failed: family (terminal:family): rate limited',
    ],
    [
      { type: 'approval_asked', group: 'family', tool: 'bash', code: 'ABC234' },
      '21:40:03 approval asked: family wants bash (code ABC234)',
    ],
    [
      {
        type: 'approval_answered',
        group: 'family',
        tool: 'bash',
        code: 'ABC234',
        answer: 'no',
        via: 'terminal:main',
      },
      '21:40:03 approval answered: no ABC234 for family bash (from terminal:main)',
    ],
    [{ type: 'task_ran', group: 'main', taskId: 3, ok: true }, '21:40:03 task #3 ran: main'],
    [
      { type: 'task_ran', group: 'main', taskId: 3, ok: false, error: 'over budget' },
      '21:40:03 task #3 failed: main: over budget',
    ],
    [{ type: 'error', message: 'disk full' }, '21:40:03 error: disk full'],
  ] as const)('prints %o as one line', (event, line) => {
    expect(formatHostEvent(event, at)).toBe(line);
  });

  it('keeps an error on one line, without terminal control sequences, and short', () => {
    const line = formatHostEvent(
      { type: 'error', message: `bad\n\u001b[31mred\u0007${'x'.repeat(500)}` },
      at,
    );
    for (const ch of ['\n', '\u001b', '\u0007']) expect(line).not.toContain(ch);
    expect(line.length).toBeLessThan(240);
  });
});

describe('HostEvents', () => {
  it('hands every event to every listener', () => {
    const events = new HostEvents();
    const a: string[] = [];
    const b: string[] = [];
    events.on((e) => a.push(e.type));
    events.on((e) => b.push(e.type));
    events.emit({ type: 'error', message: 'x' });
    expect([a, b]).toEqual([['error'], ['error']]);
  });
});
