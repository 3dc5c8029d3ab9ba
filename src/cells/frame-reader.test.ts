import { describe, expect, it } from 'vitest';
import { FrameReader, type FrameEvent } from './frame-reader.js';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('FrameReader', () => {
  const cases: Array<{ name: string; max: number; chunks: string[]; events: FrameEvent[] }> = [
    {
      name: 'splits frames within one chunk',
      max: 10,
      chunks: ['a\nbc\n'],
      events: [
        { kind: 'frame', text: 'a' },
        { kind: 'frame', text: 'bc' },
      ],
    },
    {
      name: 'joins a frame split over chunks',
      max: 10,
      chunks: ['ab', 'cd', 'e\nf'],
      events: [{ kind: 'frame', text: 'abcde' }],
    },
    {
      name: 'accepts a frame of exactly the limit',
      max: 4,
      chunks: ['ab', 'cd\n'],
      events: [{ kind: 'frame', text: 'abcd' }],
    },
    {
      name: 'reports an overflow as soon as an unfinished frame passes the limit',
      max: 4,
      chunks: ['ab', 'cde'],
      events: [{ kind: 'overflow', limitBytes: 4 }],
    },
    {
      name: 'keeps the frames before an overflow and nothing after it',
      max: 3,
      chunks: ['ok\ntoo long\nlater\n', 'more\n'],
      events: [
        { kind: 'frame', text: 'ok' },
        { kind: 'overflow', limitBytes: 3 },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const reader = new FrameReader(c.max);
      expect(c.chunks.flatMap((chunk) => reader.push(b(chunk)))).toEqual(c.events);
    });
  }

  it('keeps a multi-byte character split between chunks whole', () => {
    const reader = new FrameReader(10);
    const bytes = b('\u00e9t\u00e9\n');
    expect([...reader.push(bytes.subarray(0, 1)), ...reader.push(bytes.subarray(1))]).toEqual([
      { kind: 'frame', text: '\u00e9t\u00e9' },
    ]);
  });

  it('never holds more than the limit of an endless line', () => {
    const reader = new FrameReader(1024);
    const chunk = Buffer.alloc(300, 0x61);
    const events: FrameEvent[] = [];
    for (let i = 0; i < 100; i++) {
      events.push(...reader.push(chunk));
      expect(reader.bufferedBytes).toBeLessThanOrEqual(1024);
    }
    expect(events).toEqual([{ kind: 'overflow', limitBytes: 1024 }]);
  });

  it('refuses a limit below one byte', () => {
    expect(() => new FrameReader(0)).toThrow(/positive integer/);
  });
});
