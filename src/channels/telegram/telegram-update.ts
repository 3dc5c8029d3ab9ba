import { z } from 'zod';
import { describeSize } from '../attachment.js';
import type { InboundMediaKind } from '../channel.js';

/** Telegram caps a message at 4096 characters; more is a malformed update, cut here. */
const MAX_INBOUND_CHARS = 8000;
const MAX_NAME_CHARS = 100;

/** Message contents named to the host (so nothing is lost silently) but not fetched. */
const UNTAKEN_KINDS = ['video', 'video_note', 'animation', 'sticker'] as const;

const id = z.number().int().safe();
const person = z.object({
  id,
  is_bot: z.boolean().optional(),
  first_name: z.string().max(1000).optional(),
  last_name: z.string().max(1000).optional(),
  username: z.string().max(100).optional(),
});
const chat = z.object({ id, type: z.string().max(32) });
const fileRef = z.object({
  file_id: z.string().min(1).max(512),
  file_size: z.number().int().nonnegative().optional(),
});
const message = z.object({
  message_id: id,
  chat,
  from: person.optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.array(fileRef).max(50).optional(),
  document: fileRef
    .extend({
      file_name: z.string().max(1000).optional(),
      mime_type: z.string().max(200).optional(),
    })
    .optional(),
  voice: fileRef.extend({ mime_type: z.string().max(200).optional() }).optional(),
  audio: fileRef
    .extend({
      file_name: z.string().max(1000).optional(),
      mime_type: z.string().max(200).optional(),
    })
    .optional(),
});
const callbackQuery = z.object({
  id: z.string().min(1).max(256),
  from: person,
  data: z.string().max(256).optional(),
  message: z.object({ message_id: id, chat }).optional(),
});
const updateId = z.object({ update_id: z.number().int().nonnegative().safe() });

/** A file the message carries, before it is fetched: the size is what the update claims. */
export interface WantedFile {
  kind: InboundMediaKind;
  fileId: string;
  name: string;
  mime: string;
  /** Bytes, as Telegram says; checked again when it is fetched. */
  size: number | undefined;
}

export interface From {
  chatId: string;
  sender: string;
  senderName: string;
}

/** What an update is to this channel. */
export type TelegramInbound =
  | (From & {
      kind: 'message';
      messageId: number;
      text: string;
      files: WantedFile[];
      /** A line per file over the cap (for the host's text, and told to the sender). */
      tooBig: string[];
      /** A line per content kind not taken in, e.g. a sticker (for the host's text only). */
      notes: string[];
    })
  | (From & {
      kind: 'click';
      queryId: string;
      /** Null when the button was on an inline message, which this bot never sends. */
      messageId: number | null;
      data: string;
    })
  | { kind: 'skip'; reason: string };

export interface UpdateLimits {
  /** The largest file taken in (NANOCELL_MAX_ATTACHMENT_MB, and what getFile can serve). */
  maxFileBytes: number;
  /** The largest image the model may see. */
  maxImageBytes: number;
}

/** The update id (to advance past it even when the rest is malformed), or null. */
export function updateIdOf(raw: unknown): number | null {
  const parsed = updateId.safeParse(raw);
  return parsed.success ? parsed.data.update_id : null;
}

/**
 * One raw update, checked as untrusted input. Messages and button presses are what the
 * channel takes; another kind, a bot's message or a malformed one is a `skip` with the reason.
 */
export function parseUpdate(raw: unknown, limits: UpdateLimits): TelegramInbound {
  if (typeof raw !== 'object' || raw === null) return { kind: 'skip', reason: 'not an object' };
  const update = raw as Record<string, unknown>;
  if ('message' in update) return parseMessage(update.message, limits);
  if ('callback_query' in update) return parseClick(update.callback_query);
  const kinds = Object.keys(update).filter((k) => k !== 'update_id');
  return { kind: 'skip', reason: `update type ${kinds.join(',').slice(0, 60) || 'none'}` };
}

function parseMessage(raw: unknown, limits: UpdateLimits): TelegramInbound {
  const parsed = message.safeParse(raw);
  if (!parsed.success)
    return { kind: 'skip', reason: `malformed message: ${problem(parsed.error)}` };
  const m = parsed.data;
  if (!m.from) return { kind: 'skip', reason: 'message without a sender' };
  if (m.from.is_bot) return { kind: 'skip', reason: 'message from a bot' };
  const body = m.text ?? m.caption ?? '';
  const text =
    body.length > MAX_INBOUND_CHARS
      ? `${body.slice(0, MAX_INBOUND_CHARS)}\n[message cut at ${MAX_INBOUND_CHARS} characters]`
      : body;
  const files: WantedFile[] = [];
  const tooBig: string[] = [];
  const notes: string[] = [];
  const want = (file: WantedFile) => {
    if (file.size !== undefined && file.size > limits.maxFileBytes) {
      tooBig.push(notTakenIn(file.name, file.size, limits.maxFileBytes));
    } else files.push(file);
  };
  if (m.photo && m.photo.length > 0) {
    const cap = Math.min(limits.maxFileBytes, limits.maxImageBytes);
    const fitting =
      m.photo
        .filter((p) => p.file_size !== undefined && p.file_size <= cap)
        .sort((a, b) => b.file_size! - a.file_size!)[0] ??
      // Sizes Telegram did not state: the largest, capped again when it is fetched.
      m.photo.filter((p) => p.file_size === undefined).at(-1);
    if (fitting) {
      files.push({
        kind: 'image',
        fileId: fitting.file_id,
        name: 'photo.jpg',
        mime: 'image/jpeg',
        size: fitting.file_size,
      });
    } else
      tooBig.push(`[photo not taken in: it is over the ${describeSize(cap)} limit in every size]`);
  }
  const document = m.document ?? m.audio;
  if (document) {
    want({
      kind: 'document',
      fileId: document.file_id,
      name: safeName(document.file_name ?? 'file'),
      mime: document.mime_type ?? 'application/octet-stream',
      size: document.file_size,
    });
  }
  if (m.voice) {
    want({
      kind: 'voice',
      fileId: m.voice.file_id,
      name: 'voice.ogg',
      mime: m.voice.mime_type ?? 'audio/ogg',
      size: m.voice.file_size,
    });
  }
  for (const kind of UNTAKEN_KINDS) {
    if (kind in (raw as object))
      notes.push(`[${kind.replace('_', ' ')} not taken in: not supported yet]`);
  }
  if (text.trim() === '' && files.length === 0 && notes.length === 0 && tooBig.length === 0) {
    return { kind: 'skip', reason: 'message with nothing this channel takes in' };
  }
  return {
    kind: 'message',
    ...from(m.chat.id, m.from),
    messageId: m.message_id,
    text,
    files,
    tooBig,
    notes,
  };
}

function parseClick(raw: unknown): TelegramInbound {
  const parsed = callbackQuery.safeParse(raw);
  if (!parsed.success)
    return { kind: 'skip', reason: `malformed button press: ${problem(parsed.error)}` };
  const q = parsed.data;
  return {
    kind: 'click',
    // A press on an inline message has no chat: it can only be refused, in the sender's chat.
    ...from(q.message?.chat.id ?? q.from.id, q.from),
    queryId: q.id,
    messageId: q.message?.message_id ?? null,
    data: q.data ?? '',
  };
}

function from(chatId: number, who: z.infer<typeof person>): From {
  const name = [who.first_name, who.last_name].filter(Boolean).join(' ') || who.username || '';
  return {
    chatId: String(chatId),
    sender: String(who.id),
    senderName: name.replace(/\p{Cc}|\p{Cf}/gu, '').slice(0, MAX_NAME_CHARS) || String(who.id),
  };
}

function problem(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.join('.') || 'value'}: ${first.message}`.slice(0, 120) : 'invalid';
}

/** The note for a file over the cap, as the host and the sender see it. */
export function notTakenIn(name: string, size: number | undefined, maxBytes: number): string {
  const sized = size === undefined ? name : `${name} (${describeSize(size)})`;
  return `[file not taken in: ${sized}: it is over the ${describeSize(maxBytes)} limit]`;
}

/** A sender's file name, for a line of text: letters, digits and a few marks, bounded. */
function safeName(name: string): string {
  return name.replace(/[^\p{L}\p{N} ._-]/gu, '?').slice(0, 80) || 'file';
}
