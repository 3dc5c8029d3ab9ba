import { describe, expect, it } from 'vitest';
import type { WebMessage } from './api.js';
import {
  addToolSteps,
  applyLive,
  emptyTimeline,
  lastHistoryId,
  mergeHistory,
  shownItems,
  shownMessages,
  type Timeline,
} from './chat-timeline.js';

const msg = (id: number, direction: 'in' | 'out', text: string): WebMessage => ({
  id,
  direction,
  senderName: direction === 'in' ? 'owner' : 'Andy',
  text,
  createdAt: '2026-01-01T10:00:00.000Z',
});
const texts = (t: Timeline) => shownMessages(t).map((m) => `${m.streaming ? '~' : ''}${m.text}`);

describe('chat timeline', () => {
  it('keeps each stored message once, however often polls return it', () => {
    let t = mergeHistory(emptyTimeline(), [msg(1, 'in', 'hi'), msg(2, 'out', 'hello')], 0);
    t = mergeHistory(t, [msg(2, 'out', 'hello'), msg(3, 'in', 'again')], 0);
    t = mergeHistory(t, [msg(1, 'in', 'hi')], 0);

    expect(texts(t)).toEqual(['hi', 'hello', 'again']);
    expect(lastHistoryId(t)).toBe(3);
  });

  it('shows a streamed reply growing in place, then replaces it with the stored reply', () => {
    let t = mergeHistory(emptyTimeline(), [msg(1, 'in', 'tell me')], 0);
    t = applyLive(t, { type: 'message', chatId: 'owner', id: 'w1', text: 'Once' });
    t = applyLive(t, { type: 'edit', chatId: 'owner', id: 'w1', text: 'Once upon' });
    expect(texts(t)).toEqual(['tell me', '~Once upon']);

    const tickAtPoll = t.tick;
    t = mergeHistory(t, [msg(2, 'out', 'Once upon a time')], tickAtPoll);

    expect(texts(t)).toEqual(['tell me', 'Once upon a time']);
  });

  it('keeps a streamed reply that changed after the poll began, until a later poll', () => {
    let t = applyLive(emptyTimeline(), { type: 'message', chatId: 'owner', id: 'w1', text: 'a' });
    const tickAtPoll = t.tick;
    t = applyLive(t, { type: 'message', chatId: 'owner', id: 'w2', text: 'second reply' });
    t = mergeHistory(t, [msg(5, 'out', 'a')], tickAtPoll);

    expect(texts(t)).toEqual(['a', '~second reply']);
  });

  it('drops a streamed reply on a later poll even when the stored reply came in an earlier one', () => {
    let t = applyLive(emptyTimeline(), { type: 'message', chatId: 'owner', id: 'w1', text: 'Hel' });
    const firstPoll = t.tick;
    // The final edit arrives while the first poll is out; that poll brings the stored reply.
    t = applyLive(t, { type: 'edit', chatId: 'owner', id: 'w1', text: 'Hello' });
    t = mergeHistory(t, [msg(4, 'out', 'Hello')], firstPoll);
    expect(texts(t)).toEqual(['Hello', '~Hello']);

    t = mergeHistory(t, [], t.tick);

    expect(texts(t)).toEqual(['Hello']);
  });

  it('moves the buttons of a delivered reply onto its stored message', () => {
    const actions = [{ id: 'yes K3F9QX', label: 'Approve' }];
    let t = applyLive(emptyTimeline(), {
      type: 'message',
      chatId: 'owner',
      id: 'w3',
      text: 'May I run bash?',
      actions,
    });
    t = mergeHistory(t, [msg(9, 'out', 'May I run bash?')], t.tick);

    const shown = shownMessages(t);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ key: 'h9', streaming: false, actions });
  });

  it('ignores typing, and a poll with only the owner’s messages leaves live replies alone', () => {
    let t = applyLive(emptyTimeline(), { type: 'message', chatId: 'owner', id: 'w1', text: 'hm' });
    t = applyLive(t, { type: 'typing', chatId: 'owner' });
    t = mergeHistory(t, [msg(1, 'in', 'hi')], t.tick);

    expect(texts(t)).toEqual(['hi', '~hm']);
  });
});

describe('tool cards in the timeline', () => {
  const step = (id: string, at: string, output = 'ok') => ({
    id,
    group: 'main',
    tool: 'bash',
    input: { command: 'ls' },
    output,
    outputCut: false,
    isError: false,
    decision: 'allow' as const,
    rule: null,
    durationMs: 5,
    at,
  });
  const order = (t: Timeline) =>
    shownItems(t).map((i) => (i.kind === 'tool' ? `tool:${i.step.id}` : i.message.text));

  it('keeps one card per call, live or from history, between the messages by time', () => {
    let t = mergeHistory(
      emptyTimeline(),
      [
        { ...msg(1, 'in', 'tidy'), createdAt: '2026-01-01T10:00:00.000Z' },
        { ...msg(2, 'out', 'done'), createdAt: '2026-01-01T10:00:05.000Z' },
      ],
      0,
    );
    t = applyLive(t, { type: 'tool', ...step('c1', '2026-01-01T10:00:02.000Z', 'live') });
    t = addToolSteps(t, [step('c1', '2026-01-01T10:00:02.000Z', 'stored')]);
    t = addToolSteps(t, [step('c2', '2026-01-01T10:00:03.000Z')]);

    expect(order(t)).toEqual(['tidy', 'tool:c1', 'tool:c2', 'done']);
    expect(t.tools.get('c1')?.output).toBe('stored');
  });

  it('shows a call of a run still going after the stored messages, before the streaming reply', () => {
    let t = mergeHistory(emptyTimeline(), [msg(1, 'in', 'go')], 0);
    t = applyLive(t, { type: 'message', chatId: 'owner', id: 'w1', text: 'work' });
    t = applyLive(t, { type: 'tool', ...step('c3', '2026-01-01T10:00:09.000Z') });

    expect(order(t)).toEqual(['go', 'tool:c3', 'work']);
  });
});
