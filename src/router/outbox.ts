import type { Logger } from 'pino';
import type { Channel } from '../channels/channel.js';
import type { Store } from '../store/store.js';

/** A channel that never answers must not hold up every other message. */
const SEND_TIMEOUT_MS = 30_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`channel did not take the message within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface OutboxOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => Date;
}

/**
 * Replies leave through the outbox: stored first (with the run's other writes), then handed
 * to their channel; a failed hand-over is retried with capped exponential backoff, and
 * anything still undelivered at a restart goes out then. `delivered_at` is set the moment the
 * channel takes a message, so it is not handed over again — except if the host dies in the
 * instant between the channel taking it and that write, when the next start sends it once
 * more (at-least-once: losing a reply would be worse).
 */
export class Outbox {
  private readonly channels = new Map<string, Channel>();
  private flushing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    options: OutboxOptions = {},
  ) {
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
    this.now = options.now ?? (() => new Date());
  }

  register(channel: Channel): void {
    this.channels.set(channel.name, channel);
  }

  /** Store a message for a chat and try to deliver it now. Returns the stored id. */
  send(groupId: number, channel: string, chatId: string, text: string, senderName: string): number {
    const stored = this.store.messages.add({
      groupId,
      channel,
      chatId,
      direction: 'out',
      sender: 'assistant',
      senderName,
      text,
    });
    void this.flush();
    return stored.id;
  }

  /** Deliver everything due; concurrent calls share one pass (and trigger one more). */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.again = false;
        await this.deliverDue();
      } while (this.again);
    })().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Retry due messages every `intervalMs` until stop(). */
  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
    void this.flush();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async deliverDue(): Promise<void> {
    const due = this.store.messages.outboxDue(this.now());
    for (const message of due) {
      const channel = this.channels.get(message.channel);
      if (!channel) continue; // Delivered by the process that runs that channel.
      try {
        await withTimeout(channel.send(message.chatId, message.text), SEND_TIMEOUT_MS);
        this.store.messages.markDelivered(message.id, this.now());
      } catch (err) {
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** message.attempts);
        this.store.messages.markDeliveryFailed(
          message.id,
          err instanceof Error ? err.message : String(err),
          new Date(this.now().getTime() + delay),
        );
        this.log.warn(
          {
            messageId: message.id,
            channel: message.channel,
            attempt: message.attempts + 1,
            delayMs: delay,
            err,
          },
          'delivery failed; will retry',
        );
      }
    }
  }
}
