import type { Logger } from 'pino';
import type {
  Action,
  Attachment,
  Channel,
  ChannelCapabilities,
  OutboundMessage,
  SentMessage,
} from '../channels/channel.js';
import { fitToChannel } from '../channels/fit-to-channel.js';
import type { Store } from '../store/store.js';
import type { StoredMessage } from '../store/messages.js';
import { splitForLimit } from '../run/reply-stream.js';
import { PREVIEW_LIMIT_CHARS, type ReplyPreview } from './reply-previews.js';

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
  /** How often a working indicator is renewed (platforms drop one after a few seconds). */
  typingEveryMs?: number;
  /** Calls `fn` every `everyMs` until the returned stop is called (tests drive it by hand). */
  repeat?: (fn: () => void, everyMs: number) => () => void;
  /**
   * Told once when a message has failed `reportAfterAttempts` times (it is still kept and
   * retried), so the owner hears of a channel that does not deliver.
   */
  onUndeliverable?: (message: StoredMessage, error: string) => void;
  reportAfterAttempts?: number;
  /** Streamed previews of replies (src/router/reply-previews.ts), edited into the reply. */
  previews?: { take(messageId: number): ReplyPreview | undefined };
}

function repeatWithTimer(fn: () => void, everyMs: number): () => void {
  const timer = setInterval(fn, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Buttons and files of a message: kept in memory until delivered (text alone survives a restart). */
export interface OutboundExtras {
  actions?: Action[];
  attachments?: Attachment[];
}

/** Sent messages kept editable. */
const MAX_EDITABLE = 1000;

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
  private readonly typingEveryMs: number;
  private readonly repeat: (fn: () => void, everyMs: number) => () => void;
  private readonly previews: OutboxOptions['previews'];
  private readonly onUndeliverable: OutboxOptions['onUndeliverable'];
  private readonly reportAfterAttempts: number;
  private readonly extras = new Map<number, OutboundExtras>();
  private readonly sent = new Map<number, { channel: string; chatId: string; sent: SentMessage }>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    options: OutboxOptions = {},
  ) {
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
    this.now = options.now ?? (() => new Date());
    this.typingEveryMs = options.typingEveryMs ?? 4000;
    this.repeat = options.repeat ?? repeatWithTimer;
    this.previews = options.previews;
    this.onUndeliverable = options.onUndeliverable;
    this.reportAfterAttempts = options.reportAfterAttempts ?? 3;
  }

  register(channel: Channel): void {
    this.channels.set(channel.name, channel);
  }

  /** The running channel of that name, if this process runs it. */
  channelFor(name: string): Channel | undefined {
    return this.channels.get(name);
  }

  /** What the channel of that name can show; undefined when this process does not run it. */
  capabilitiesOf(channel: string): ChannelCapabilities | undefined {
    return this.channels.get(channel)?.capabilities;
  }

  /**
   * Store a message for a chat and try to deliver it now. Returns the stored id. Buttons and
   * files go to a channel that shows them; any other gets them as text (`fitToChannel`).
   */
  send(
    groupId: number,
    channel: string,
    chatId: string,
    text: string,
    senderName: string,
    extras: OutboundExtras = {},
  ): number {
    const stored = this.store.messages.add({
      groupId,
      channel,
      chatId,
      direction: 'out',
      sender: 'assistant',
      senderName,
      text,
    });
    if (extras.actions?.length || extras.attachments?.length) this.extras.set(stored.id, extras);
    void this.flush();
    return stored.id;
  }

  /**
   * Change a reply's text (a streamed reply growing). The stored text always changes;
   * `edited` when the chat's message changed in place too, `stored` when there is no live
   * message to edit (not delivered yet: it goes out with this text; or the channel cannot
   * edit, or it was sent before a restart).
   */
  async edit(messageId: number, text: string): Promise<'edited' | 'stored'> {
    this.store.messages.updateText(messageId, text);
    const live = this.sent.get(messageId);
    const channel = live && this.channels.get(live.channel);
    if (!live || !channel?.capabilities.edit) return 'stored';
    await withTimeout(channel.edit(live.chatId, live.sent, text), SEND_TIMEOUT_MS);
    return 'edited';
  }

  /**
   * Show a working indicator in the chat until `until` settles, on a channel that has one.
   * Best effort: a failed indicator is logged, never fails the run.
   */
  working(channel: string, chatId: string, until: Promise<unknown>): void {
    const target = this.channels.get(channel);
    if (!target?.capabilities.typing) return;
    const signal = () =>
      void target.typing(chatId).catch((err: unknown) => {
        this.log.debug({ channel, err }, 'typing indicator failed');
      });
    signal();
    const stop = this.repeat(signal, this.typingEveryMs);
    // The run's own outcome is reported by its caller; here it only ends the indicator.
    until.then(stop, stop);
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

  /**
   * A reply whose run streamed a preview: the preview's messages are edited into the reply
   * (more text continues in new messages). A preview that failed, or a reply with buttons or
   * files, goes out as a new message instead.
   */
  private async overPreview(
    channel: Channel,
    chatId: string,
    fitted: OutboundMessage,
    preview: ReplyPreview,
  ): Promise<SentMessage> {
    let shown: SentMessage[] = [];
    try {
      shown = await withTimeout(preview.finish(), SEND_TIMEOUT_MS);
    } catch (err) {
      this.log.debug({ channel: channel.name, err }, 'reply preview failed; sending the reply');
    }
    const plain = !fitted.actions?.length && !fitted.attachments?.length;
    if (shown.length === 0 || !plain) {
      return withTimeout(channel.send(chatId, fitted), SEND_TIMEOUT_MS);
    }
    const chunks = splitForLimit(fitted.text, PREVIEW_LIMIT_CHARS);
    for (const [i, chunk] of chunks.entries()) {
      const known = shown[i];
      if (known) await withTimeout(channel.edit(chatId, known, chunk), SEND_TIMEOUT_MS);
      else await withTimeout(channel.send(chatId, { text: chunk }), SEND_TIMEOUT_MS);
    }
    for (const extra of shown.slice(chunks.length)) {
      await withTimeout(channel.edit(chatId, extra, '…'), SEND_TIMEOUT_MS);
    }
    return shown[0]!;
  }

  private async deliverDue(): Promise<void> {
    const due = this.store.messages.outboxDue(this.now());
    for (const message of due) {
      const channel = this.channels.get(message.channel);
      if (!channel) continue; // Delivered by the process that runs that channel.
      try {
        const fitted = fitToChannel(channel.capabilities, {
          text: message.text,
          ...this.extras.get(message.id),
        });
        const preview = this.previews?.take(message.id);
        const sent = preview
          ? await this.overPreview(channel, message.chatId, fitted, preview)
          : await withTimeout(channel.send(message.chatId, fitted), SEND_TIMEOUT_MS);
        this.store.messages.markDelivered(message.id, this.now());
        this.extras.delete(message.id);
        this.remember(message.id, { channel: message.channel, chatId: message.chatId, sent });
      } catch (err) {
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** message.attempts);
        const error = err instanceof Error ? err.message : String(err);
        this.store.messages.markDeliveryFailed(
          message.id,
          error,
          new Date(this.now().getTime() + delay),
        );
        if (message.attempts + 1 === this.reportAfterAttempts) {
          try {
            this.onUndeliverable?.(message, error);
          } catch (reportErr) {
            this.log.error({ err: reportErr }, 'could not report an undelivered message');
          }
        }
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

  private remember(
    messageId: number,
    live: { channel: string; chatId: string; sent: SentMessage },
  ): void {
    this.sent.set(messageId, live);
    for (const [oldest] of this.sent) {
      if (this.sent.size <= MAX_EDITABLE) break;
      this.sent.delete(oldest);
    }
  }
}
