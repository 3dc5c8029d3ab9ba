import { EventEmitter } from 'node:events';
import type {
  AnyMessageContent,
  ConnectionState,
  WAMessage,
  WAMessageKey,
} from '@whiskeysockets/baileys';
import {
  MediaTooLargeError,
  type WhatsAppEventName,
  type WhatsAppEvents,
  type WhatsAppListener,
  type WhatsAppSocket,
} from '../../src/channels/whatsapp/whatsapp-socket.js';

/** What the channel did on WhatsApp, as the fake saw it. */
export type WhatsAppEvent =
  | { kind: 'text'; jid: string; id: string; text: string; quotedId: string | null }
  | {
      kind: 'file';
      jid: string;
      id: string;
      as: 'image' | 'document';
      name: string | null;
      caption: string | null;
      mime: string;
      bytes: Buffer;
    }
  | { kind: 'edit'; jid: string; id: string; text: string }
  | { kind: 'react'; jid: string; messageId: string; emoji: string }
  | { kind: 'read'; jid: string; messageId: string }
  | { kind: 'presence'; jid: string; presence: string };

/** Baileys' DisconnectReason codes the tests use. */
export const DISCONNECT = {
  loggedOut: 401,
  connectionLost: 408,
  connectionClosed: 428,
  restartRequired: 515,
} as const;

export interface From {
  /** The chat: a person's or a group's jid. */
  jid?: string;
  /** The sender in a group. */
  participant?: string;
  pushName?: string;
}

interface StoredFile {
  bytes: Buffer;
}

/**
 * WhatsApp as a Baileys socket shows it, for the channel's tests: `connect` hands out
 * FakeWhatsAppSocket connections that emit Baileys' real event shapes (`connection.update`,
 * `creds.update`, `messages.upsert` with WAMessage bodies: conversation, extendedTextMessage,
 * imageMessage, documentMessage, audioMessage with ptt ...). The person's side: `userSays`,
 * `userSends*`, `upsert` for raw shapes; `close` drops the connection as WhatsApp would.
 */
export class FakeWhatsApp {
  readonly ownerJid = '447700900123@s.whatsapp.net';
  readonly groupJid = '120363012345678901@g.us';
  /** What the next connections do instead of opening, one each (then they open). */
  readonly refuseNext: Array<{ code: number; afterOpen?: boolean } | 'qr' | 'hang'> = [];
  connects = 0;
  downloads = 0;
  private current: FakeWhatsAppSocket | null = null;
  private showingQr: FakeWhatsAppSocket | null = null;
  private readonly sockets = new Set<FakeWhatsAppSocket>();
  private readonly files = new Map<string, StoredFile>();
  private readonly events: WhatsAppEvent[] = [];
  private readonly waiters: Array<{
    match: (e: WhatsAppEvent) => boolean;
    resolve: (e: WhatsAppEvent) => void;
  }> = [];
  private readonly openWaiters: Array<() => void> = [];
  private nextId = 1;

  /** Opens a connection, as `makeWASocket` does: `connecting`, keys, then `open`. */
  readonly connect = async (): Promise<WhatsAppSocket> => {
    this.connects++;
    const socket = new FakeWhatsAppSocket(this);
    this.sockets.add(socket);
    const refusal = this.refuseNext.shift();
    setImmediate(() => {
      socket.emit('connection.update', { connection: 'connecting' });
      if (refusal === 'hang') return;
      if (refusal === 'qr') {
        this.showingQr = socket;
        return socket.emit('connection.update', { qr: '2@fakeQrRef,key==' });
      }
      if (refusal && !refusal.afterOpen) return socket.drop(refusal.code);
      if (refusal) {
        socket.emit('connection.update', { connection: 'open' });
        return socket.drop(refusal.code);
      }
      socket.emit('creds.update', { me: { id: '447700900123:4@s.whatsapp.net', name: 'Owner' } });
      this.current = socket;
      socket.emit('connection.update', {
        connection: 'open',
        receivedPendingNotifications: true,
      });
      for (const w of this.openWaiters.splice(0)) w();
    });
    return socket;
  };

  /** Connections not ended yet. */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Resolves at the next connection that opens. */
  nextOpen(): Promise<void> {
    return new Promise((resolve) => this.openWaiters.push(resolve));
  }

  /** WhatsApp closes the open connection (`loggedOut`, `connectionLost` ...). */
  close(code: number): void {
    const socket = this.current;
    if (!socket) throw new Error('FakeWhatsApp.close: no open connection');
    this.current = null;
    socket.drop(code);
  }

  /**
   * The owner scans the QR on their phone: as with WhatsApp, the new keys arrive, then the
   * connection closes asking for a restart (515), and the next connection opens.
   */
  scan(): void {
    const socket = this.showingQr;
    if (!socket) throw new Error('FakeWhatsApp.scan: no QR is showing');
    this.showingQr = null;
    socket.emit('creds.update', {
      me: { id: '447700900123:4@s.whatsapp.net', name: 'Owner' },
      registered: true,
    });
    socket.drop(DISCONNECT.restartRequired);
  }

  /** A person writes; returns the message id. */
  userSays(text: string, from: From = {}): string {
    return this.userSends({ conversation: text }, from);
  }

  userSendsImage(bytes: Buffer, caption: string, from: From = {}, declared = bytes.length): string {
    return this.userSendsFile(
      'imageMessage',
      { mimetype: 'image/jpeg', caption },
      bytes,
      from,
      declared,
    );
  }

  userSendsDocument(bytes: Buffer, fileName: string, mimetype: string, from: From = {}): string {
    return this.userSendsFile(
      'documentMessage',
      { fileName, mimetype, title: fileName },
      bytes,
      from,
      bytes.length,
    );
  }

  userSendsVoice(bytes: Buffer, from: From = {}, declared = bytes.length): string {
    return this.userSendsFile(
      'audioMessage',
      { mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds: 3 },
      bytes,
      from,
      declared,
    );
  }

  /** Any message content (an IMessage), from the person; returns its id. */
  userSends(message: Record<string, unknown>, from: From = {}, id = this.messageId()): string {
    const jid = from.jid ?? this.ownerJid;
    const key: WAMessageKey = { remoteJid: jid, fromMe: false, id };
    if (jid.endsWith('@g.us')) key.participant = from.participant ?? this.ownerJid;
    this.upsert({
      type: 'notify',
      messages: [
        {
          key,
          message,
          messageTimestamp: Math.floor(Date.now() / 1000),
          pushName: from.pushName ?? 'Owner',
          broadcast: false,
        },
      ],
    });
    return id;
  }

  /** A raw `messages.upsert` on the open connection (for malformed or odd shapes). */
  upsert(data: unknown): void {
    const socket = this.current;
    if (!socket) throw new Error('FakeWhatsApp: no open connection to deliver on');
    socket.emit('messages.upsert', data as WhatsAppEvents['messages.upsert']);
  }

  /** The next event of `kind` matching `match` (earlier ones that do not match stay queued). */
  async next<K extends WhatsAppEvent['kind']>(
    kind: K,
    match: (e: Extract<WhatsAppEvent, { kind: K }>) => boolean = () => true,
  ): Promise<Extract<WhatsAppEvent, { kind: K }>> {
    return (await this.nextWhere(
      (e) => e.kind === kind && match(e as Extract<WhatsAppEvent, { kind: K }>),
    )) as Extract<WhatsAppEvent, { kind: K }>;
  }

  async nextWhere(match: (e: WhatsAppEvent) => boolean): Promise<WhatsAppEvent> {
    const index = this.events.findIndex(match);
    if (index >= 0) return this.events.splice(index, 1)[0]!;
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Events seen and not taken by `next` yet. */
  pending(): readonly WhatsAppEvent[] {
    return this.events;
  }

  record(event: WhatsAppEvent): void {
    const index = this.waiters.findIndex((w) => w.match(event));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(event);
    else this.events.push(event);
  }

  messageId(): string {
    return `3EB0${String(this.nextId++).padStart(16, '0')}`;
  }

  download(message: WAMessage, maxBytes: number): Buffer {
    this.downloads++;
    const file = this.files.get(message.key.id ?? '');
    if (!file) throw new Error('media not found (410)');
    if (file.bytes.length > maxBytes) throw new MediaTooLargeError(maxBytes);
    return file.bytes;
  }

  ended(socket: FakeWhatsAppSocket): void {
    this.sockets.delete(socket);
    if (this.current === socket) this.current = null;
  }

  private userSendsFile(
    type: string,
    fields: Record<string, unknown>,
    bytes: Buffer,
    from: From,
    declared: number,
  ): string {
    const media = {
      ...fields,
      url: 'https://mmg.whatsapp.net/v/t62.7118-24/fake.enc',
      directPath: '/v/t62.7118-24/fake.enc',
      mediaKey: new Uint8Array(32).fill(7),
      fileSha256: new Uint8Array(32),
      fileEncSha256: new Uint8Array(32),
      // protobuf's Long, as Baileys decodes a uint64.
      fileLength: { low: declared % 2 ** 32, high: Math.floor(declared / 2 ** 32), unsigned: true },
      mediaKeyTimestamp: Math.floor(Date.now() / 1000),
    };
    const id = this.messageId();
    this.files.set(id, { bytes });
    return this.userSends({ [type]: media }, from, id);
  }
}

/** One connection: Baileys' socket as the channel sees it through WhatsAppSocket. */
export class FakeWhatsAppSocket implements WhatsAppSocket {
  private readonly ev = new EventEmitter();
  private open = true;

  constructor(private readonly platform: FakeWhatsApp) {}

  on<E extends WhatsAppEventName>(event: E, listener: WhatsAppListener<E>): void {
    this.ev.on(event, listener as (data: unknown) => void);
  }

  off<E extends WhatsAppEventName>(event: E, listener: WhatsAppListener<E>): void {
    this.ev.off(event, listener as (data: unknown) => void);
  }

  emit<E extends WhatsAppEventName>(event: E, data: WhatsAppEvents[E]): void {
    if (this.open) this.ev.emit(event, data);
  }

  /** The connection ends as Baileys reports it: `close` with a Boom-shaped error. */
  drop(code: number): void {
    const error = Object.assign(new Error(code === 401 ? 'Connection Failure' : 'Stream Errored'), {
      isBoom: true,
      output: { statusCode: code, payload: { statusCode: code, error: 'x', message: 'x' } },
    });
    const update: Partial<ConnectionState> = {
      connection: 'close',
      lastDisconnect: { error, date: new Date() },
    };
    this.emit('connection.update', update);
    this.open = false;
    this.platform.ended(this);
  }

  async sendMessage(
    jid: string,
    content: AnyMessageContent,
    options?: { quoted?: WAMessage },
  ): Promise<WAMessage | undefined> {
    this.mustBeOpen();
    const c = content as Record<string, unknown>;
    const id = this.platform.messageId();
    const key = { remoteJid: jid, fromMe: true, id };
    if ('react' in c) {
      const react = c.react as { text: string; key: WAMessageKey };
      this.platform.record({
        kind: 'react',
        jid,
        messageId: react.key.id ?? '',
        emoji: react.text,
      });
      return { key, message: { reactionMessage: react } };
    }
    if ('edit' in c && typeof c.text === 'string') {
      const edited = c.edit as WAMessageKey;
      this.platform.record({ kind: 'edit', jid, id: edited.id ?? '', text: c.text });
      return { key, message: { protocolMessage: { key: edited, type: 14 } } };
    }
    if (typeof c.text === 'string') {
      this.platform.record({
        kind: 'text',
        jid,
        id,
        text: c.text,
        quotedId: options?.quoted?.key.id ?? null,
      });
      return { key, message: { extendedTextMessage: { text: c.text } } };
    }
    if (Buffer.isBuffer(c.image) || Buffer.isBuffer(c.document)) {
      const image = Buffer.isBuffer(c.image);
      this.platform.record({
        kind: 'file',
        jid,
        id,
        as: image ? 'image' : 'document',
        name: typeof c.fileName === 'string' ? c.fileName : null,
        caption: typeof c.caption === 'string' ? c.caption : null,
        mime: String(c.mimetype),
        bytes: Buffer.from((image ? c.image : c.document) as Buffer),
      });
      return { key, message: {} };
    }
    throw new Error(`FakeWhatsApp: content it does not know: ${Object.keys(c).join(', ')}`);
  }

  async sendPresenceUpdate(presence: 'composing' | 'paused', jid: string): Promise<void> {
    this.mustBeOpen();
    this.platform.record({ kind: 'presence', jid, presence });
  }

  async readMessages(keys: WAMessageKey[]): Promise<void> {
    this.mustBeOpen();
    for (const k of keys) {
      this.platform.record({ kind: 'read', jid: k.remoteJid ?? '', messageId: k.id ?? '' });
    }
  }

  async downloadMedia(message: WAMessage, maxBytes: number): Promise<Buffer> {
    this.mustBeOpen();
    return this.platform.download(message, maxBytes);
  }

  async requestPairingCode(): Promise<string> {
    return 'FAKE1234';
  }

  async end(): Promise<void> {
    if (!this.open) return;
    // Baileys reports its own end as a close too (connectionClosed).
    this.emit('connection.update', {
      connection: 'close',
      lastDisconnect: {
        error: Object.assign(new Error('Connection Closed'), {
          output: { statusCode: 428 },
        }),
        date: new Date(),
      },
    });
    this.open = false;
    this.platform.ended(this);
  }

  private mustBeOpen(): void {
    if (!this.open) throw new Error('Connection Closed');
  }
}
