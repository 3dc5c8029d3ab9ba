import { describe, expect, it } from 'vitest';
import { parseLiveEvent } from './live-events.js';

describe('parseLiveEvent', () => {
  it.each([
    ['message', '{"chatId":"owner","id":"w1","text":"hi"}', true],
    ['edit', '{"chatId":"owner","id":"w1","text":"hi there"}', true],
    ['typing', '{"chatId":"owner"}', true],
    ['message', 'not json', false],
    ['message', '{"chatId":"owner","id":"w1"}', false],
    ['shutdown', '{"chatId":"owner"}', false],
    [
      'tool',
      '{"id":"c1","group":"main","tool":"bash","input":{"command":"ls"},"output":"a","outputCut":false,"isError":false,"decision":"allow","rule":null,"durationMs":4,"at":"2026-01-01T10:00:00.000Z"}',
      true,
    ],
    [
      'tool',
      '{"id":"c1","group":"main","tool":"bash","input":"ls","output":"a","outputCut":false,"isError":false,"decision":"allow","rule":null,"durationMs":4,"at":"x"}',
      false,
    ],
    ['message', `{"chatId":"${'x'.repeat(65)}","id":"w1","text":"hi"}`, false],
    [
      'message',
      '{"chatId":"owner","id":"w1","text":"f","attachments":[{"id":"a","name":"x","mime":"text/plain","size":1,"url":"https://evil.example/x"}]}',
      false,
    ],
  ])('%s %s → taken: %s', (type, data, taken) => {
    expect(parseLiveEvent(type, data) !== undefined).toBe(taken);
  });

  it('keeps the event type the stream named, not one the data claims', () => {
    expect(
      parseLiveEvent('typing', '{"type":"message","chatId":"owner","id":"w","text":"x"}'),
    ).toEqual({ type: 'typing', chatId: 'owner' });
  });
});
