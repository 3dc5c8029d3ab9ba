import fs from 'node:fs';
import type {
  AnyMessageContent,
  BaileysEventMap,
  WAMessage,
  WAMessageKey,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';

/** The Baileys events the channel and `whatsapp link` listen to. */
export type WhatsAppEventName = 'connection.update' | 'messages.upsert' | 'creds.update';
export type WhatsAppEvents = Pick<BaileysEventMap, WhatsAppEventName>;
export type WhatsAppListener<E extends WhatsAppEventName> = (data: WhatsAppEvents[E]) => void;

/** A downloaded file was larger than its message declared and the cap allows. */
export class MediaTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the file is over ${maxBytes} bytes`);
    this.name = 'MediaTooLargeError';
  }
}

/**
 * What nanocell needs of one WhatsApp connection (a Baileys socket). Events and messages have
 * Baileys' own shapes and are untrusted. A socket lives for one connection: once it reports
 * `connection: 'close'` it is done, and the channel connects a new one.
 */
export interface WhatsAppSocket {
  on<E extends WhatsAppEventName>(event: E, listener: WhatsAppListener<E>): void;
  off<E extends WhatsAppEventName>(event: E, listener: WhatsAppListener<E>): void;
  /** Resolves with the message as sent (its key names it for edits); rejects if not sent. */
  sendMessage(
    jid: string,
    content: AnyMessageContent,
    options?: { quoted?: WAMessage },
  ): Promise<WAMessage | undefined>;
  sendPresenceUpdate(presence: 'composing' | 'paused', jid: string): Promise<void>;
  /** Blue ticks: the messages were read. */
  readMessages(keys: WAMessageKey[]): Promise<void>;
  /** The file of a media message; rejects with MediaTooLargeError past `maxBytes`. */
  downloadMedia(message: WAMessage, maxBytes: number): Promise<Buffer>;
  /** For `whatsapp link --phone`: an 8-character code to type on the phone instead of a QR. */
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** Closes the connection without logging out (the device stays linked); saves keys first. */
  end(): Promise<void>;
}

/**
 * A real Baileys socket with its keys in `authDir` (`useMultiFileAuthState`), adapted to
 * WhatsAppSocket. Not exercised by the tests: WhatsApp's protocol (Noise + Signal to its own
 * servers) cannot be faked here, so tests drive FakeWhatsApp through the same interface.
 * Baileys is loaded only when this is called.
 */
export async function connectBaileys(authDir: string, log: Logger): Promise<WhatsAppSocket> {
  const baileys = await import('@whiskeysockets/baileys');
  fs.mkdirSync(authDir, { recursive: true, mode: 0o700 });
  const { state, saveCreds } = await baileys.useMultiFileAuthState(authDir);
  const logger = log.child({ module: 'baileys' }, { level: 'warn' });
  const sock = baileys.makeWASocket({
    auth: state,
    printQRInTerminal: false,
    logger,
    markOnlineOnConnect: false,
    syncFullHistory: false,
  });
  let saving: Promise<void> = Promise.resolve();
  sock.ev.on('creds.update', () => {
    saving = saving
      .then(saveCreds)
      .catch((err: unknown) => log.error({ err }, 'whatsapp keys not saved'));
  });
  return {
    on: (event, listener) => sock.ev.on(event, listener),
    off: (event, listener) => sock.ev.off(event, listener),
    sendMessage: (jid, content, options) => sock.sendMessage(jid, content, options),
    sendPresenceUpdate: (presence, jid) => sock.sendPresenceUpdate(presence, jid),
    readMessages: (keys) => sock.readMessages(keys),
    requestPairingCode: (phoneNumber) => sock.requestPairingCode(phoneNumber),
    downloadMedia: async (message, maxBytes) => {
      const stream = await baileys.downloadMediaMessage(
        message,
        'stream',
        {},
        { reuploadRequest: sock.updateMediaMessage, logger },
      );
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) {
          stream.destroy();
          throw new MediaTooLargeError(maxBytes);
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks);
    },
    end: async () => {
      await saving;
      await sock.end(undefined);
    },
  };
}
