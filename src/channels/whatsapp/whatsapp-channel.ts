import type { ConnectionState, WAMessage, WAMessageKey } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type {
  Attachment,
  Channel,
  ChannelCapabilities,
  ChannelHandlers,
  OutboundMessage,
  SentMessage,
} from '../channel.js';
import { splitMessage } from '../split-message.js';
import { knownChannel } from '../registry.js';
import { toWhatsAppMarkup } from './whatsapp-markup.js';
import { receiveMessage, type ReceiveDeps } from './whatsapp-receive.js';
import type { WhatsAppListener, WhatsAppSocket } from './whatsapp-socket.js';

/** Kept under WhatsApp's own limit (65,536) so a long reply reads as a few messages. */
export const WHATSAPP_MAX_CHARS = 4000;
/** Baileys' DisconnectReason.loggedOut: the phone removed this linked device. */
const LOGGED_OUT = 401;
export const LOGGED_OUT_MESSAGE =
  'WhatsApp logged this device out: run nanocell whatsapp link again';
/** Images WhatsApp shows inline; any other file goes as a document (name and bytes kept). */
const INLINE_IMAGES = new Set(['image/jpeg', 'image/png', 'image/webp']);
/** More messages in one upsert than this is not a person typing: the rest are dropped. */
const MAX_MESSAGES_PER_UPSERT = 50;

export interface WhatsAppChannelOptions {
  /** Opens one connection (Baileys in the host; a fake in tests). */
  connect: () => Promise<WhatsAppSocket>;
  log: Logger;
  /** A file over this is refused before download (`NANOCELL_MAX_ATTACHMENT_MB`). */
  maxAttachmentBytes: number;
  /** How long `start` waits for WhatsApp to open the connection. */
  startTimeoutMs?: number;
  /** The first wait before reconnecting after a drop; doubles up to `reconnectMaxMs`. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

/** WhatsApp did not open the connection: not linked, logged out, or unreachable. */
export class WhatsAppStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WhatsAppStartError';
  }
}

export type WhatsAppState =
  | { state: 'stopped' }
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'reconnecting'; reason: string }
  | { state: 'failed'; reason: string };

/** How one connection ended before it opened. */
class ConnectionClosed extends Error {
  constructor(
    readonly code: number | null,
    detail: string,
  ) {
    super(`WhatsApp closed the connection (${code ?? 'no code'}: ${detail})`);
    this.name = 'ConnectionClosed';
  }
}

/**
 * The WhatsApp channel, as a linked device of the owner's phone (Baileys). A chat id is a
 * jid: a person (`<number>@s.whatsapp.net`) or a group (`<id>@g.us`). A stored message gets
 * a ✅ reaction and a read receipt; a refused one a reply quoting it with the reason; an
 * ignored one nothing at all. WhatsApp shows no buttons for ordinary accounts, so actions
 * are declared unsupported and the host writes the reply to type instead (`yes CODE`).
 * A dropped connection is reconnected with backoff, except when the phone logged us out.
 */
export class WhatsAppChannel implements Channel {
  readonly name = 'whatsapp';
  readonly capabilities: ChannelCapabilities = {
    edit: true,
    actions: false,
    attachments: true,
    typing: true,
  };
  private socket: WhatsAppSocket | null = null;
  private detach: (() => void) | null = null;
  private handlers: ChannelHandlers | null = null;
  private current: WhatsAppState = { state: 'stopped' };
  private stopped = true;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  /** Inbound messages are taken one at a time, in the order WhatsApp gave them. */
  private inbound: Promise<void> = Promise.resolve();
  private readonly receiving: ReceiveDeps;

  constructor(private readonly options: WhatsAppChannelOptions) {
    this.receiving = {
      channelName: this.name,
      handlers: () => this.handlers,
      socket: () => this.socket,
      log: options.log,
      maxAttachmentBytes: options.maxAttachmentBytes,
    };
  }

  status(): WhatsAppState {
    return this.current;
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.handlers = handlers;
    this.current = { state: 'connecting' };
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const opened = await this.open(deadline - Date.now());
        if (this.stopped) {
          opened.detach();
          await opened.socket.end();
          throw new WhatsAppStartError('whatsapp channel stopped while connecting');
        }
        this.use(opened);
        break;
      } catch (err) {
        if (err instanceof WhatsAppStartError) throw err;
        // A close that is not a log-out (WhatsApp asks for a restart after linking) is retried.
        const retry = err instanceof ConnectionClosed && err.code !== LOGGED_OUT;
        const waitMs = this.backoffMs();
        if (!retry || this.stopped || Date.now() + waitMs >= deadline) {
          this.stopped = true;
          this.handlers = null;
          const reason = startFailure(err, timeoutMs);
          this.current = { state: 'failed', reason };
          throw new WhatsAppStartError(reason, { cause: err });
        }
        this.options.log.warn({ code: err.code }, 'whatsapp closed while connecting; retrying');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
    this.options.log.info('whatsapp channel connected');
  }

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    const socket = this.requireSocket('send');
    const jid = checkedJid(chatId);
    const files = message.attachments ?? [];
    const text = message.text.trim() !== '' || files.length > 0 ? message.text : '(empty message)';
    let id: string | null = null;
    if (text.trim() !== '') {
      for (const part of splitMessage(toWhatsAppMarkup(text), WHATSAPP_MAX_CHARS)) {
        id = sentId(await socket.sendMessage(jid, { text: part }));
      }
    }
    for (const file of files) {
      const sent = sentId(await socket.sendMessage(jid, fileContent(file)));
      id ??= sent;
    }
    return { id: id! };
  }

  async edit(chatId: string, sent: SentMessage, text: string): Promise<void> {
    const socket = this.requireSocket('edit');
    const jid = checkedJid(chatId);
    const marked = toWhatsAppMarkup(text);
    const body =
      marked.length > WHATSAPP_MAX_CHARS ? `${marked.slice(0, WHATSAPP_MAX_CHARS - 1)}…` : marked;
    const key: WAMessageKey = { remoteJid: jid, fromMe: true, id: sent.id };
    await socket.sendMessage(jid, { text: body || '(empty message)', edit: key });
  }

  async typing(chatId: string): Promise<void> {
    await this.requireSocket('typing').sendPresenceUpdate('composing', checkedJid(chatId));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.handlers = null;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.current = { state: 'stopped' };
    const socket = this.socket;
    this.socket = null;
    this.detach?.();
    this.detach = null;
    if (socket) await socket.end();
  }

  private requireSocket(what: string): WhatsAppSocket {
    if (!this.socket) {
      const why =
        this.current.state === 'reconnecting' ? 'it is reconnecting' : 'it is not connected';
      throw new Error(`whatsapp channel cannot ${what}: ${why}`);
    }
    return this.socket;
  }

  /** One connection, open: resolves when WhatsApp opens it, rejects if it closes first. */
  private async open(timeoutMs: number): Promise<{ socket: WhatsAppSocket; detach: () => void }> {
    const socket = await this.options.connect();
    const onUpsert: WhatsAppListener<'messages.upsert'> = (upsert) => this.onUpsert(upsert);
    let onUpdate: WhatsAppListener<'connection.update'> = () => undefined;
    let closedEarly: ConnectionClosed | null = null;
    const detach = () => {
      socket.off('messages.upsert', onUpsert);
      socket.off('connection.update', onUpdate);
    };
    // Listening before it opens: messages that waited while we were away come right after.
    socket.on('messages.upsert', onUpsert);
    const opened = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no open connection from WhatsApp within ${timeoutMs} ms`)),
        Math.max(0, timeoutMs),
      );
      onUpdate = (update) => {
        if (update.connection === 'open') {
          clearTimeout(timer);
          resolve();
        } else if (update.connection === 'close') {
          clearTimeout(timer);
          if (this.socket === socket) this.onDrop(socket, update);
          else {
            // Closed before it was put to use (maybe just after it opened): a failed open.
            closedEarly = closed(update);
            reject(closedEarly);
          }
        } else if (update.qr) {
          clearTimeout(timer);
          reject(new ConnectionClosed(LOGGED_OUT, 'it asks for a new link (a pairing code)'));
        }
      };
      socket.on('connection.update', onUpdate);
    });
    try {
      await opened;
      if (closedEarly) throw closedEarly;
    } catch (err) {
      detach();
      await socket.end().catch((e: unknown) => {
        this.options.log.warn({ err: e }, 'whatsapp socket did not close after a failed open');
      });
      throw err;
    }
    return { socket, detach };
  }

  private use(opened: { socket: WhatsAppSocket; detach: () => void }): void {
    this.socket = opened.socket;
    this.detach = opened.detach;
    this.attempt = 0;
    this.current = { state: 'connected' };
  }

  private onDrop(socket: WhatsAppSocket, update: Partial<ConnectionState>): void {
    if (this.socket !== socket || this.stopped) return;
    this.socket = null;
    this.detach?.();
    this.detach = null;
    const { code, message } = closed(update);
    if (code === LOGGED_OUT) {
      this.current = { state: 'failed', reason: LOGGED_OUT_MESSAGE };
      this.options.log.error({ code }, LOGGED_OUT_MESSAGE);
      return;
    }
    this.current = { state: 'reconnecting', reason: message };
    this.options.log.warn({ code }, 'whatsapp connection dropped; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect();
    }, this.backoffMs());
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    try {
      const opened = await this.open(this.options.startTimeoutMs ?? 60_000);
      if (this.stopped) {
        opened.detach();
        await opened.socket.end();
        return;
      }
      this.use(opened);
      this.options.log.info('whatsapp channel reconnected');
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof ConnectionClosed && err.code === LOGGED_OUT) {
        this.current = { state: 'failed', reason: LOGGED_OUT_MESSAGE };
        this.options.log.error({ code: err.code }, LOGGED_OUT_MESSAGE);
        return;
      }
      this.options.log.warn({ err }, 'whatsapp reconnect failed; trying again');
      this.scheduleReconnect();
    }
  }

  private backoffMs(): number {
    const base = this.options.reconnectBaseMs ?? 1000;
    const max = this.options.reconnectMaxMs ?? 60_000;
    return Math.min(max, base * 2 ** Math.min(this.attempt++, 16));
  }

  private onUpsert(upsert: { messages?: unknown; type?: unknown }): void {
    // 'append' is history synced from the phone, not something said to us now.
    if (upsert.type !== 'notify' || !Array.isArray(upsert.messages)) return;
    for (const raw of upsert.messages.slice(0, MAX_MESSAGES_PER_UPSERT)) {
      this.inbound = this.inbound.then(() =>
        receiveMessage(raw as WAMessage, this.receiving).catch((err: unknown) => {
          this.options.log.error({ err }, 'whatsapp message not handled');
        }),
      );
    }
  }
}

function fileContent(file: Attachment) {
  return INLINE_IMAGES.has(file.mime)
    ? // An image message has no file name: the caption names it.
      { image: file.bytes, mimetype: file.mime, caption: file.name }
    : { document: file.bytes, mimetype: file.mime, fileName: file.name };
}

/** The id WhatsApp gave a message we sent; a send without one did not happen. */
function sentId(sent: WAMessage | undefined): string {
  const id = sent?.key?.id;
  if (!id) throw new Error('WhatsApp did not take the message (no id came back)');
  return id;
}

/** A chat id the host gives is a jid in the channel table's form; anything else is a bug. */
function checkedJid(chatId: string): string {
  if (!knownChannel('whatsapp')!.chatIdPattern.test(chatId)) {
    throw new RangeError(`"${chatId.slice(0, 60)}" is not a whatsapp chat id`);
  }
  return chatId;
}

function closed(update: Partial<ConnectionState>): ConnectionClosed {
  const error = update.lastDisconnect?.error as
    { output?: { statusCode?: unknown }; message?: unknown } | undefined;
  const code = error?.output?.statusCode;
  const detail = typeof error?.message === 'string' ? error.message.slice(0, 200) : 'closed';
  return new ConnectionClosed(typeof code === 'number' ? code : null, detail);
}

/** The start failure as the owner can act on it. */
function startFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof ConnectionClosed && err.code === LOGGED_OUT) return LOGGED_OUT_MESSAGE;
  if (err instanceof ConnectionClosed) {
    return `${err.message}; the channel stays off until the next start`;
  }
  const detail = err instanceof Error ? err.message : String(err);
  return `WhatsApp could not be reached within ${timeoutMs} ms (${detail.slice(0, 200)}); check the network, the channel stays off until the next start`;
}
