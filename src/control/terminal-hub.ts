import {
  ChannelUnsupportedError,
  type Channel,
  type ChannelCapabilities,
  type ChannelHandlers,
  type OutboundMessage,
  type SentMessage,
} from '../channels/channel.js';

/** Where a terminal chat's outbound messages are shown: the local terminal or a client. */
export type TerminalSink = (chatId: string, text: string) => void;

/**
 * The `terminal` channel of the process that owns the data dir. Every terminal attached to it
 * (its own, and each `chat`/`ask` connected over the control socket) is the owner, so a
 * message for the admin group's chat reaches every one of them; a message for another group's
 * chat reaches the terminals attached to that chat. A terminal is live only: with nobody
 * attached, a message is left in the history (it is taken, not retried).
 */
export class TerminalHub implements Channel {
  readonly name = 'terminal';
  /** Plain text only: the outbox turns buttons and files into text first. */
  readonly capabilities: ChannelCapabilities = {
    edit: false,
    actions: false,
    attachments: false,
    typing: false,
  };
  private sentCount = 0;
  private readonly sinks = new Map<number, { chatId: string; sink: TerminalSink }>();
  private nextId = 1;

  constructor(private readonly ownerChatId: string) {}

  /** Show messages for `chatId` (and the owner's) on `sink` until the returned detach. */
  attach(chatId: string, sink: TerminalSink): () => void {
    const id = this.nextId++;
    this.sinks.set(id, { chatId, sink });
    return () => this.sinks.delete(id);
  }

  // Inbound terminal messages reach the router through each session, not through here.
  async start(_handlers: ChannelHandlers): Promise<void> {}

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    for (const { chatId: attached, sink } of this.sinks.values()) {
      if (attached === chatId || chatId === this.ownerChatId) sink(chatId, message.text);
    }
    this.sentCount += 1;
    return { id: String(this.sentCount) };
  }

  async edit(_chatId: string, _sent: SentMessage, _text: string): Promise<void> {
    throw new ChannelUnsupportedError(this.name, 'edit a sent message');
  }

  async typing(_chatId: string): Promise<void> {
    throw new ChannelUnsupportedError(this.name, 'show a typing indicator');
  }

  async stop(): Promise<void> {
    this.sinks.clear();
  }
}
