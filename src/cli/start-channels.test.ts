import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Channel, ChannelHandlers } from '../channels/channel.js';
import type { KnownChannel } from '../channels/registry.js';
import { loadConfig } from '../config.js';
import { FakeChannel } from '../../test/support/fake-channel.js';
import { channelRetryDelayMs, startChannels } from './start-channels.js';

const handlers: ChannelHandlers = {
  onMessage: async () => ({ status: 'ignored' }),
  onAction: async () => ({ status: 'ignored' }),
};

/** A platform that is on (or off) and makes `make()`'s channel. */
function platform(name: string, make: () => Channel, on = true): KnownChannel {
  return {
    name,
    configKeys: [],
    chatIdPattern: /^\d+$/,
    chatIdForm: `${name}:<id>`,
    isDirectChat: () => false,
    state: () => (on ? { on: true, detail: 'test' } : { on: false, detail: 'set X' }),
    create: async () => make(),
  };
}

/** A channel whose start fails the first `failures` times. */
class FlakyChannel extends FakeChannel {
  stops = 0;
  constructor(
    name: string,
    private readonly failure: { left: number },
  ) {
    super(name);
  }
  override async start(h: ChannelHandlers): Promise<void> {
    if (this.failure.left-- > 0) throw new Error(`${this.name} refused the token`);
    await super.start(h);
  }
  override async stop(): Promise<void> {
    this.stops++;
    await super.stop();
  }
}

function output() {
  const lines: string[] = [];
  return { lines, stdout: { write: (text: string) => void lines.push(text) } };
}

describe('startChannels', () => {
  const config = loadConfig({});
  const log = pino({ level: 'silent' });

  it('starts each channel that is on and registers it; an off one is left alone', async () => {
    const made: FakeChannel[] = [];
    const registered: string[] = [];
    const out = output();
    const started = startChannels({
      config,
      log,
      handlers,
      register: (c) => void registered.push(c.name),
      stdout: out.stdout,
      channels: [
        platform('alpha', () => (made[made.length] = new FakeChannel('alpha'))),
        platform('beta', () => (made[made.length] = new FakeChannel('beta')), false),
      ],
    });
    await started.ready;

    expect(registered).toEqual(['alpha']);
    expect(made.map((c) => [c.name, c.isRunning])).toEqual([['alpha', true]]);
    expect(out.lines.join('')).toBe('nanocell: alpha connected.\n');
    await started.stop();
    expect(made[0]!.isRunning).toBe(false);
  });

  it('keeps the others running when one fails, says so once, and tries it again', async () => {
    const failure = { left: 2 };
    const flaky: FlakyChannel[] = [];
    const registered: string[] = [];
    const out = output();
    const started = startChannels({
      config,
      log,
      handlers,
      register: (c) => void registered.push(c.name),
      stdout: out.stdout,
      retryDelayMs: () => 5,
      channels: [
        platform('flaky', () => (flaky[flaky.length] = new FlakyChannel('flaky', failure))),
        platform('steady', () => new FakeChannel('steady')),
      ],
    });
    await started.ready;
    expect(registered).toEqual(['steady']);
    expect(out.lines.join('')).toContain(
      'nanocell: flaky did not connect: flaky refused the token',
    );

    await expect.poll(() => registered).toEqual(['steady', 'flaky']);
    expect(flaky).toHaveLength(3);
    // Each failed try was stopped, so it left nothing open.
    expect(flaky.slice(0, 2).map((c) => c.stops)).toEqual([1, 1]);
    expect(out.lines.filter((l) => l.includes('did not connect'))).toHaveLength(1);
    await started.stop();
  });

  it('stops trying once stopped', async () => {
    let made = 0;
    const started = startChannels({
      config,
      log,
      handlers,
      register: () => undefined,
      stdout: output().stdout,
      retryDelayMs: () => 5,
      channels: [platform('down', () => (made++, new FlakyChannel('down', { left: 1e9 })))],
    });
    await started.ready;
    await started.stop();
    const after = made;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(made).toBe(after);
  });

  it('waits longer after each failure, at most five minutes', () => {
    expect([0, 1, 2, 20].map(channelRetryDelayMs)).toEqual([5000, 10_000, 20_000, 300_000]);
  });
});
