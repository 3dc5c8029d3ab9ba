import { describe, expect, it } from 'vitest';
import type { OutboundMessage, SentMessage } from '../channels/channel.js';
import { ReplyStream, splitForLimit, type ReplyStreamClock } from './reply-stream.js';

function fakeClock() {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  const clock: ReplyStreamClock = {
    now: () => now,
    later: (fn, ms) => {
      const timer = { at: now + ms, fn, live: true };
      timers.push(timer);
      return () => {
        timer.live = false;
      };
    },
  };
  const advance = async (ms: number) => {
    now += ms;
    for (const t of timers) {
      if (t.live && t.at <= now) {
        t.live = false;
        t.fn();
      }
    }
    await new Promise((r) => setImmediate(r));
  };
  return { clock, advance };
}

function fakeChannel() {
  const log: string[] = [];
  let next = 0;
  return {
    log,
    channel: {
      send: async (_chat: string, m: OutboundMessage): Promise<SentMessage> => {
        log.push(`send ${m.text}`);
        return { id: String(next++) };
      },
      edit: async (_chat: string, s: SentMessage, text: string) => {
        log.push(`edit ${s.id} ${text}`);
      },
    },
  };
}

describe('ReplyStream', () => {
  it('sends once there is text, then edits at most every 700 ms, and ends with the whole reply', async () => {
    const { clock, advance } = fakeClock();
    const { channel, log } = fakeChannel();
    const stream = new ReplyStream({ channel, chatId: 'c', limit: 1000, clock });
    stream.push({ type: 'text', text: 'Hel' });
    await advance(0);
    expect(log).toEqual(['send Hel']);
    stream.push({ type: 'text', text: 'lo' });
    stream.push({ type: 'text', text: ' there' });
    await advance(300);
    expect(log).toEqual(['send Hel']);
    await advance(400);
    expect(log).toEqual(['send Hel', 'edit 0 Hello there']);
    stream.push({ type: 'text', text: '!' });
    const done = await stream.finish();
    expect(log).toEqual(['send Hel', 'edit 0 Hello there', 'edit 0 Hello there!']);
    expect(done.text).toBe('Hello there!');
    await advance(1000);
    expect(log).toHaveLength(3);
  });

  it('shows tool calls as they start and finish', async () => {
    const { clock, advance } = fakeClock();
    const { channel, log } = fakeChannel();
    const stream = new ReplyStream({ channel, chatId: 'c', limit: 1000, clock });
    stream.push({ type: 'text', text: 'Looking.' });
    stream.push({ type: 'tool_start', id: 't1', name: 'bash' });
    await advance(0);
    expect(log.at(-1)).toBe('send Looking.\n⚙ bash …');
    stream.push({ type: 'tool_end', id: 't1', name: 'bash', isError: false });
    stream.push({ type: 'tool_start', id: 't2', name: 'read' });
    stream.push({ type: 'tool_end', id: 't2', name: 'read', isError: true });
    stream.push({ type: 'text', text: 'Done.' });
    const done = await stream.finish();
    expect(done.text).toBe('Looking.\n⚙ bash ✓\n⚙ read ✗\nDone.');
    expect(log.at(-1)).toBe(`edit 0 ${done.text}`);
  });

  it('continues in a new message when the reply outgrows the limit', async () => {
    const { clock } = fakeClock();
    const { channel, log } = fakeChannel();
    const stream = new ReplyStream({ channel, chatId: 'c', limit: 10, clock });
    stream.push({ type: 'text', text: 'abcdefghij' });
    stream.push({ type: 'text', text: 'klm' });
    const done = await stream.finish();
    expect(log).toEqual(['send abcdefghij', 'send klm']);
    expect(done.messages).toEqual([{ id: '0' }, { id: '1' }]);
  });

  it('reports a failed send from finish', async () => {
    const stream = new ReplyStream({
      channel: {
        send: () => Promise.reject(new Error('platform down')),
        edit: () => Promise.resolve(),
      },
      chatId: 'c',
      limit: 10,
      clock: fakeClock().clock,
    });
    stream.push({ type: 'text', text: 'x' });
    await expect(stream.finish()).rejects.toThrow('platform down');
  });
});

describe('splitForLimit', () => {
  it('cuts at a line break when one is in the second half, else at the limit', () => {
    expect(splitForLimit('aaaaaa\nbbbbbb', 10)).toEqual(['aaaaaa\n', 'bbbbbb']);
    expect(splitForLimit('a\nbbbbbbbbbbbb', 10)).toEqual(['a\nbbbbbbbb', 'bbbb']);
    expect(splitForLimit('', 10)).toEqual([]);
  });
});
