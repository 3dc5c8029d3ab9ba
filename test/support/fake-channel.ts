import {
  ChannelUnsupportedError,
  type Channel,
  type ChannelCapabilities,
  type ChannelHandlers,
  type OutboundMessage,
  type Receipt,
  type SentMessage,
} from '../../src/channels/channel.js';

/** Resolves the oldest waiter with each new item; items nobody waited for are queued. */
class Arrivals<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(item: T) => void> = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface FakeSent {
  chatId: string;
  message: OutboundMessage;
  id: string;
}

/**
 * A channel for tests: records what the host sends, edits and signals; `say` and `click`
 * play its user. `failures` holds what each of the next sends rejects with; `gate`, when set,
 * holds every send until it resolves. Capabilities are the test's choice (all by default).
 */
export class FakeChannel implements Channel {
  readonly capabilities: ChannelCapabilities;
  readonly sent: FakeSent[] = [];
  readonly edits: Array<{ chatId: string; id: string; text: string }> = [];
  readonly typings: string[] = [];
  attempts = 0;
  failures: unknown[] = [];
  gate: Promise<void> | undefined;
  private handlers: ChannelHandlers | undefined;
  private readonly sends = new Arrivals<FakeSent>();
  private readonly editArrivals = new Arrivals<{ chatId: string; id: string; text: string }>();
  private readonly typingArrivals = new Arrivals<string>();
  private readonly offered = new Set<string>();
  private entered: Array<() => void> = [];
  private running = false;

  constructor(
    readonly name = 'fake',
    capabilities: Partial<ChannelCapabilities> = {},
  ) {
    this.capabilities = {
      edit: true,
      actions: true,
      attachments: true,
      typing: true,
      ...capabilities,
    };
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    this.handlers = handlers;
    this.running = true;
  }

  get isRunning(): boolean {
    return this.running;
  }

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    this.attempts++;
    for (const notify of this.entered.splice(0)) notify();
    if (this.gate) await this.gate;
    if (this.failures.length > 0) throw this.failures.shift();
    if (message.actions && !this.capabilities.actions)
      throw new Error('fake: actions not declared');
    if (message.attachments && !this.capabilities.attachments) {
      throw new Error('fake: attachments not declared');
    }
    for (const a of message.actions ?? []) this.offered.add(`${chatId}\n${a.id}`);
    const sent = { chatId, message, id: `f${this.sent.length + 1}` };
    this.sent.push(sent);
    this.sends.push(sent);
    return { id: sent.id };
  }

  async edit(chatId: string, sent: SentMessage, text: string): Promise<void> {
    if (!this.capabilities.edit)
      throw new ChannelUnsupportedError(this.name, 'edit a sent message');
    const edit = { chatId, id: sent.id, text };
    this.edits.push(edit);
    this.editArrivals.push(edit);
  }

  async typing(chatId: string): Promise<void> {
    if (!this.capabilities.typing) {
      throw new ChannelUnsupportedError(this.name, 'show a typing indicator');
    }
    this.typings.push(chatId);
    this.typingArrivals.push(chatId);
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  /** Its user writes in a chat; resolves with the host's receipt. */
  say(chatId: string, text: string, sender = 'user-1', senderName = 'User'): Promise<Receipt> {
    if (!this.handlers || !this.running) throw new Error('fake channel is not running');
    return this.handlers.onMessage({ channel: this.name, chatId, sender, senderName, text });
  }

  /** Its user clicks a button the host sent in that chat (only those exist). */
  click(
    chatId: string,
    actionId: string,
    sender = 'user-1',
    senderName = 'User',
  ): Promise<Receipt> {
    if (!this.handlers || !this.running) throw new Error('fake channel is not running');
    if (!this.offered.has(`${chatId}\n${actionId}`)) {
      return Promise.resolve({ status: 'refused', reason: 'no such button in this chat' });
    }
    return this.handlers.onAction({ channel: this.name, chatId, sender, senderName, actionId });
  }

  /** The next message sent (or the oldest not yet awaited). */
  nextSent(): Promise<FakeSent> {
    return this.sends.next();
  }

  nextEdit(): Promise<{ chatId: string; id: string; text: string }> {
    return this.editArrivals.next();
  }

  nextTyping(): Promise<string> {
    return this.typingArrivals.next();
  }

  /** Resolves when the next send() call begins. */
  nextSend(): Promise<void> {
    return new Promise((resolve) => this.entered.push(resolve));
  }
}
