/** A message as a channel hands it in, before it is stored. */
export interface InboundMessage {
  channel: string;
  chatId: string;
  /** Platform id of the sender (for the web: who the credential belongs to). */
  sender: string;
  senderName: string;
  text: string;
  /** Files that came with the message (the channel downloaded them, bounded); may be empty. */
  media?: InboundMedia[];
}

/** What an inbound file is to the host: an image the model sees, a document, a voice note. */
export type InboundMediaKind = 'image' | 'document' | 'voice';

/**
 * A file as a channel hands it in: untrusted name, type and bytes. The channel caps what it
 * downloads (`NANOCELL_MAX_ATTACHMENT_MB`); the host checks everything again before keeping it.
 */
export interface InboundMedia {
  kind: InboundMediaKind;
  /** The sender's file name, if any; the host makes its own safe one. */
  name: string;
  mime: string;
  bytes: Buffer;
}

/** A click on an action the host attached to an outbound message in this chat. */
export interface InboundAction {
  channel: string;
  chatId: string;
  sender: string;
  senderName: string;
  /** The opaque id the host gave the action; the channel hands it back unchanged. */
  actionId: string;
}

/**
 * What the host did with an inbound message or action, so the channel can tell its user:
 * stored under `id`, refused with a reason written for that user, or ignored: a chat the
 * assistant does not answer (bound to no group) — the channel acknowledges it to its
 * platform and says nothing back, so a stranger learns nothing from writing to the bot.
 */
export type Receipt =
  { status: 'stored'; id: number } | { status: 'refused'; reason: string } | { status: 'ignored' };

/** A button (approve / deny ...). The id is the host's and is opaque to the channel. */
export interface Action {
  id: string;
  label: string;
}

/**
 * A file for the chat, opened and read by the host (size-capped, never a path): a channel
 * never opens a file itself. Build one with `makeAttachment`.
 */
export interface Attachment {
  name: string;
  mime: string;
  bytes: Buffer;
}

export interface OutboundMessage {
  text: string;
  actions?: Action[];
  attachments?: Attachment[];
}

/** A sent message, as the channel can find it again to edit it. */
export interface SentMessage {
  id: string;
}

/** What a channel can show; the host degrades the rest (see `fitToChannel`). */
export interface ChannelCapabilities {
  /** `edit` changes a sent message in place (streamed replies). */
  edit: boolean;
  /** Actions show as buttons and come back through `onAction`. */
  actions: boolean;
  attachments: boolean;
  /** `typing` shows a working indicator. */
  typing: boolean;
}

export interface ChannelHandlers {
  /** Resolves once the message is stored (or refused); never rejects for a refusal. */
  onMessage(message: InboundMessage): Promise<Receipt>;
  onAction(action: InboundAction): Promise<Receipt>;
}

/** `edit`/`typing` on a channel that did not declare it: a bug in the caller. */
export class ChannelUnsupportedError extends Error {
  constructor(channel: string, what: string) {
    super(`channel ${channel} cannot ${what} (check its capabilities first)`);
    this.name = 'ChannelUnsupportedError';
  }
}

/**
 * A chat platform. `start` begins delivering inbound messages to `onMessage`; a channel
 * acknowledges a message to its platform only after `onMessage` resolves (the message is
 * stored by then) and tells its user the receipt's reason when it is refused.
 * `send` takes only what `capabilities` declares (the host fits the message first) and
 * rejects when the platform did not take the message. `edit` and `typing` reject with
 * `ChannelUnsupportedError` when not declared. After `stop` resolves, nothing more is
 * delivered to the handlers and no socket or stream of the channel is left open.
 */
export interface Channel {
  readonly name: string;
  readonly capabilities: ChannelCapabilities;
  start(handlers: ChannelHandlers): Promise<void>;
  send(chatId: string, message: OutboundMessage): Promise<SentMessage>;
  edit(chatId: string, sent: SentMessage, text: string): Promise<void>;
  typing(chatId: string): Promise<void>;
  stop(): Promise<void>;
}
