import { describe, expect, it } from 'vitest';
import { createSseParser } from './web-client.mjs';

describe('createSseParser', () => {
  it.each([
    {
      name: 'one event in one chunk',
      chunks: ['event: message\ndata: {"a":1}\n\n'],
      events: [{ event: 'message', data: '{"a":1}' }],
    },
    {
      name: 'an event split across chunks, mid-line',
      chunks: ['event: mess', 'age\ndata: {"a"', ':1}\n', '\n'],
      events: [{ event: 'message', data: '{"a":1}' }],
    },
    {
      name: 'a comment, then two events in one chunk',
      chunks: [': connected\n\nevent: x\ndata: 1\n\ndata: 2\n\n'],
      events: [
        { event: 'x', data: '1' },
        { event: 'message', data: '2' },
      ],
    },
    {
      name: 'multi-line data joined with newlines',
      chunks: ['data: a\ndata: b\n\n'],
      events: [{ event: 'message', data: 'a\nb' }],
    },
    { name: 'an unfinished event (held back)', chunks: ['event: x\ndata: 1\n'], events: [] },
  ])('parses $name', ({ chunks, events }) => {
    const seen = [];
    const feed = createSseParser((e) => seen.push(e));
    for (const c of chunks) feed(c);
    expect(seen).toEqual(events);
  });
});
