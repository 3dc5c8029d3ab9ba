import type { WAMessage, WAMessageKey } from '@whiskeysockets/baileys';
import { z } from 'zod';
import type { InboundMediaKind } from '../channel.js';
import { knownChannel } from '../registry.js';

/** WhatsApp caps a message at 65,536 characters; the host gets at most this many. */
export const MAX_INBOUND_CHARS = 16_000;
const MAX_NAME_CHARS = 100;
/** A person's jid, possibly with a device (`447700900123:12@s.whatsapp.net`). */
const PERSON_JID = /^(\d{5,20})(:\d{1,5})?@s\.whatsapp\.net$/;
const MIME = /^[a-z]+\/[a-z0-9][a-z0-9.+-]{0,100}$/;
// Wrappers around the real content; a few levels at most.
const WRAPPERS = [
  'ephemeralMessage',
  'viewOnceMessage',
  'viewOnceMessageV2',
  'viewOnceMessageV2Extension',
  'documentWithCaptionMessage',
] as const;
/** Keys of a message that travel beside its content and say nothing about it. */
const BESIDE_CONTENT = new Set(['messageContextInfo', 'senderKeyDistributionMessage']);

const text = z.string().max(100_000);
// protobuf's Long arrives as an object of two 32-bit halves, or as a number or a string.
const fileLength = z
  .union([
    z.number(),
    z.string().regex(/^\d{1,16}$/),
    z.object({ low: z.number(), high: z.number() }).loose(),
  ])
  .nullish();
const media = z
  .object({
    mimetype: z.string().max(200).nullish(),
    caption: text.nullish(),
    fileName: z.string().max(1000).nullish(),
    fileLength,
    ptt: z.boolean().nullish(),
  })
  .loose();

const keySchema = z
  .object({
    remoteJid: z.string().max(200),
    id: z.string().min(1).max(200),
    fromMe: z.boolean().nullish(),
    participant: z.string().max(200).nullish(),
    remoteJidAlt: z.string().max(200).nullish(),
    participantAlt: z.string().max(200).nullish(),
  })
  .loose();
const messageSchema = z
  .object({
    key: keySchema,
    pushName: z.string().max(1000).nullish(),
    message: z.record(z.string(), z.unknown()).nullish(),
  })
  .loose();

const contentSchemas = {
  conversation: text,
  extendedTextMessage: z.object({ text: text.nullish() }).loose(),
  imageMessage: media,
  documentMessage: media,
  audioMessage: media,
  buttonsResponseMessage: z
    .object({
      selectedDisplayText: text.nullish(),
      selectedButtonId: z.string().max(1000).nullish(),
    })
    .loose(),
  templateButtonReplyMessage: z
    .object({ selectedDisplayText: text.nullish(), selectedId: z.string().max(1000).nullish() })
    .loose(),
};
type ContentType = keyof typeof contentSchemas;

/** A file the message carries, before it is downloaded. */
export interface InboundFile {
  kind: InboundMediaKind;
  name: string;
  mime: string;
  /** What the message says the file's size is; checked before anything is downloaded. */
  declaredBytes: number | null;
}

export type ReadMessage =
  | {
      ok: true;
      key: WAMessageKey;
      chatId: string;
      sender: string;
      senderName: string;
      text: string;
      file: InboundFile | null;
    }
  | {
      ok: false;
      /** Why it is not a conversation turn; `malformed` and `unknown type` are worth a log line. */
      skip: 'from me' | 'status' | 'not a chat' | 'unknown type' | 'malformed' | 'empty';
      detail: string;
    };

/**
 * One message from `messages.upsert`, as the host would take it: who wrote in which chat,
 * the text (a caption for a file), and the file to download, if any. Our own messages, status
 * updates, other kinds of chat (newsletters, broadcasts) and types the host cannot use are
 * skipped with the reason.
 */
export function readMessage(raw: WAMessage): ReadMessage {
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, skip: 'malformed', detail: parsed.error.issues[0]?.message ?? 'bad shape' };
  }
  const { key, pushName } = parsed.data;
  if (key.fromMe) return { ok: false, skip: 'from me', detail: '' };
  if (key.remoteJid === 'status@broadcast') return { ok: false, skip: 'status', detail: '' };
  // Newer chats address people by a private id (`@lid`); the phone-number jid travels beside it.
  const chatId = key.remoteJid.endsWith('@lid') ? key.remoteJidAlt : key.remoteJid;
  if (!chatId || !knownChannel('whatsapp')!.chatIdPattern.test(chatId)) {
    return { ok: false, skip: 'not a chat', detail: key.remoteJid.slice(0, 60) };
  }
  const isGroup = chatId.endsWith('@g.us');
  const from = isGroup ? (personOf(key.participantAlt) ?? personOf(key.participant)) : chatId;
  if (!from) return { ok: false, skip: 'not a chat', detail: 'group message without a sender' };
  const content = unwrap(parsed.data.message ?? {});
  const type = Object.keys(content).find((k) => !BESIDE_CONTENT.has(k));
  if (!type || !(type in contentSchemas)) {
    return { ok: false, skip: 'unknown type', detail: (type ?? 'none').slice(0, 60) };
  }
  const body = contentSchemas[type as ContentType].safeParse(content[type]);
  if (!body.success) {
    return { ok: false, skip: 'malformed', detail: `${type}: ${body.error.issues[0]?.message}` };
  }
  const { said, file } = contentOf(type as ContentType, body.data);
  const cut = said.length > MAX_INBOUND_CHARS;
  const message = cut
    ? `${said.slice(0, MAX_INBOUND_CHARS)}\n[message cut at ${MAX_INBOUND_CHARS} characters]`
    : said;
  if (message.trim() === '' && !file) return { ok: false, skip: 'empty', detail: type };
  return {
    ok: true,
    key: raw.key,
    chatId,
    sender: from,
    senderName: cleanName(pushName) || `+${from.split('@')[0]}`,
    text: message,
    file,
  };
}

function contentOf(type: ContentType, body: unknown): { said: string; file: InboundFile | null } {
  switch (type) {
    case 'conversation':
      return { said: body as string, file: null };
    case 'extendedTextMessage':
      return { said: (body as { text?: string | null }).text ?? '', file: null };
    case 'buttonsResponseMessage': {
      const b = body as z.infer<(typeof contentSchemas)['buttonsResponseMessage']>;
      return { said: b.selectedDisplayText ?? b.selectedButtonId ?? '', file: null };
    }
    case 'templateButtonReplyMessage': {
      const b = body as z.infer<(typeof contentSchemas)['templateButtonReplyMessage']>;
      return { said: b.selectedDisplayText ?? b.selectedId ?? '', file: null };
    }
    case 'imageMessage':
    case 'documentMessage':
    case 'audioMessage': {
      const m = body as z.infer<typeof media>;
      const kind: InboundMediaKind =
        type === 'imageMessage' ? 'image' : type === 'documentMessage' ? 'document' : 'voice';
      const fallbackMime =
        kind === 'image'
          ? 'image/jpeg'
          : kind === 'voice'
            ? 'audio/ogg'
            : 'application/octet-stream';
      const mime = (m.mimetype ?? '').split(';')[0]!.trim().toLowerCase();
      return {
        said: m.caption ?? '',
        file: {
          kind,
          name: cleanName(m.fileName) || defaultName(kind),
          mime: MIME.test(mime) ? mime : fallbackMime,
          declaredBytes: bytesOf(m.fileLength),
        },
      };
    }
  }
}

function unwrap(message: Record<string, unknown>): Record<string, unknown> {
  let current = message;
  for (let depth = 0; depth < 3; depth++) {
    const wrapper = WRAPPERS.find((w) => w in current);
    const inner = wrapper ? (current[wrapper] as { message?: unknown } | null)?.message : null;
    if (!inner || typeof inner !== 'object') return current;
    current = inner as Record<string, unknown>;
  }
  return current;
}

/** The person's jid without a device part, or null when it is not a person's jid. */
function personOf(jid: string | null | undefined): string | null {
  const match = jid ? PERSON_JID.exec(jid) : null;
  return match ? `${match[1]}@s.whatsapp.net` : null;
}

function bytesOf(length: z.infer<typeof fileLength>): number | null {
  if (length === null || length === undefined) return null;
  if (typeof length === 'number') return length;
  if (typeof length === 'string') return Number(length);
  return length.high * 2 ** 32 + (length.low >>> 0);
}

/** A name as the platform sent it: visible characters only, one line, bounded. */
function cleanName(name: string | null | undefined): string {
  return (name ?? '')
    .replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, '')
    .trim()
    .slice(0, MAX_NAME_CHARS);
}

function defaultName(kind: InboundMediaKind): string {
  return kind === 'image' ? 'image.jpg' : kind === 'voice' ? 'voice.ogg' : 'document';
}
