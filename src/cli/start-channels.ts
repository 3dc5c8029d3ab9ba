import type { Logger } from 'pino';
import type { Channel, ChannelHandlers } from '../channels/channel.js';
import { KNOWN_CHANNELS, type KnownChannel } from '../channels/registry.js';
import type { Config } from '../config.js';
import type { TextOut } from './command.js';

export interface StartChannelsDeps {
  config: Config;
  log: Logger;
  handlers: ChannelHandlers;
  /** Where a connected channel's replies leave from. */
  register(channel: Channel): void;
  stdout: TextOut;
  channels?: readonly KnownChannel[];
  /** Waits before the next try of a channel that did not connect (tests shorten it). */
  retryDelayMs?: (attempt: number) => number;
}

/** 5 s, 10 s, 20 s ... at most 5 minutes between tries of a platform that is down. */
export function channelRetryDelayMs(attempt: number): number {
  return Math.min(5 * 60_000, 5000 * 2 ** Math.min(attempt, 10));
}

/**
 * The platform channels that are on (their credentials are set): each is made and started on
 * its own, so one that cannot connect (a refused token, a platform that is down) is reported
 * and tried again later while the host and every other channel run on. `ready` settles once
 * each has connected or failed its first try; `stop` stops them all (and any try to come).
 */
export function startChannels(deps: StartChannelsDeps): {
  ready: Promise<void>;
  stop: () => Promise<void>;
} {
  const { config, log, stdout } = deps;
  const delay = deps.retryDelayMs ?? channelRetryDelayMs;
  const live: Channel[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const trying = new Set<Promise<void>>();
  let stopped = false;
  const track = (p: Promise<void>) => {
    trying.add(p);
    void p.finally(() => trying.delete(p));
    return p;
  };

  const attempt = async (known: KnownChannel, tries: number): Promise<void> => {
    if (stopped || !known.create) return;
    let channel: Channel | undefined;
    try {
      channel = await known.create(config, {
        log: log.child({ channel: known.name }),
        home: config.home,
      });
      await channel.start(deps.handlers);
    } catch (err) {
      await channel?.stop().catch(() => undefined);
      const reason = err instanceof Error ? err.message : String(err);
      const wait = delay(tries);
      log.error({ channel: known.name, err: reason, retryInMs: wait }, 'channel did not connect');
      if (tries === 0) {
        stdout.write(
          `nanocell: ${known.name} did not connect: ${reason}\n` +
            `nanocell: the host runs on and tries ${known.name} again; \`nanocell doctor\` checks it.\n`,
        );
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        void track(attempt(known, tries + 1));
      }, wait);
      timer.unref();
      timers.add(timer);
      return;
    }
    if (stopped) {
      await channel.stop();
      return;
    }
    live.push(channel);
    deps.register(channel);
    log.info({ channel: known.name, tries: tries + 1 }, 'channel connected');
    stdout.write(`nanocell: ${known.name} connected.\n`);
  };

  const on = (deps.channels ?? KNOWN_CHANNELS).filter((c) => c.create && c.state(config).on);
  const ready = Promise.all(on.map((known) => track(attempt(known, 0)))).then(() => undefined);

  const stop = async () => {
    stopped = true;
    await Promise.all([...trying]);
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    await Promise.all(
      live.map((c) =>
        c.stop().catch((err: unknown) => log.warn({ channel: c.name, err }, 'channel stop failed')),
      ),
    );
  };
  return { ready, stop };
}
