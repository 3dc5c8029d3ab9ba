import { GrammyError, InputFile, type Api } from 'grammy';
import type { Logger } from 'pino';
import type { Attachment, OutboundMessage } from '../channel.js';
import type { InlineButton } from './telegram-buttons.js';
import { htmlCut, htmlParts, TELEGRAM_MAX_CAPTION_CHARS } from './telegram-html.js';
import { safeProblem } from './telegram-problem.js';
import type { ApiSignal } from './telegram-signal.js';

/** sendPhoto takes at most 10 MB; a bigger image goes as a document. */
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const PHOTO_MIME = /^image\/(jpeg|png|webp)$/;
const NO_PREVIEW = { is_disabled: true };

export interface Outbound {
  api: Api;
  signal: ApiSignal;
  log: Logger;
  token: string;
}

/**
 * A message into a chat, returning the id of the one to edit later (and that carries the
 * buttons). One file with a short text goes as the file with the text as its caption;
 * otherwise the text (in parts of 4096) goes first, then each file.
 */
export async function sendOutbound(
  out: Outbound,
  chat: string,
  message: OutboundMessage,
  keyboard: InlineButton[][] | undefined,
): Promise<number> {
  const files = message.attachments ?? [];
  const text = message.text.trim() === '' && files.length === 0 ? '(empty message)' : message.text;
  if (files.length === 1 && text.length <= TELEGRAM_MAX_CAPTION_CHARS) {
    return sendFile(out, chat, files[0]!, htmlCut(text, TELEGRAM_MAX_CAPTION_CHARS), keyboard);
  }
  const parts = text.trim() === '' ? [] : htmlParts(text);
  let textId: number | undefined;
  for (const [i, part] of parts.entries()) {
    const markup = i === parts.length - 1 && keyboard ? { inline_keyboard: keyboard } : undefined;
    const sent = await out.api.sendMessage(
      chat,
      part,
      {
        parse_mode: 'HTML',
        link_preview_options: NO_PREVIEW,
        ...(markup ? { reply_markup: markup } : {}),
      },
      out.signal,
    );
    textId = sent.message_id;
  }
  let fileId: number | undefined;
  for (const [i, file] of files.entries()) {
    const withKeyboard = textId === undefined && i === files.length - 1 ? keyboard : undefined;
    fileId = await sendFile(out, chat, file, '', withKeyboard);
  }
  return (textId ?? fileId)!;
}

/**
 * A sent message's text replaced (the keyboard kept: an edit without it removes the buttons).
 * Telegram's "message is not modified" is no failure; a file sent with its text gets its
 * caption edited instead.
 */
export async function editOutbound(
  out: Outbound,
  chat: string,
  messageId: number,
  text: string,
  keyboard: InlineButton[][] | undefined,
): Promise<void> {
  const markup = keyboard ? { reply_markup: { inline_keyboard: keyboard } } : {};
  try {
    await out.api.editMessageText(
      chat,
      messageId,
      htmlCut(text || '(empty message)'),
      { parse_mode: 'HTML', link_preview_options: NO_PREVIEW, ...markup },
      out.signal,
    );
    return;
  } catch (err) {
    if (notModified(err)) return;
    if (!(err instanceof GrammyError) || !/no text in the message/.test(err.description)) {
      throw err;
    }
  }
  try {
    await out.api.editMessageCaption(
      chat,
      messageId,
      { caption: htmlCut(text, TELEGRAM_MAX_CAPTION_CHARS), parse_mode: 'HTML', ...markup },
      out.signal,
    );
  } catch (err) {
    if (!notModified(err)) throw err;
  }
}

async function sendFile(
  out: Outbound,
  chat: string,
  file: Attachment,
  caption: string,
  keyboard: InlineButton[][] | undefined,
): Promise<number> {
  const other = {
    ...(caption ? { caption, parse_mode: 'HTML' as const } : {}),
    ...(keyboard ? { reply_markup: { inline_keyboard: keyboard } } : {}),
  };
  const input = () => new InputFile(file.bytes, multipartName(file.name));
  if (PHOTO_MIME.test(file.mime) && file.bytes.length <= MAX_PHOTO_BYTES) {
    try {
      return (await out.api.sendPhoto(chat, input(), other, out.signal)).message_id;
    } catch (err) {
      // Telegram refuses an image it cannot process as a photo; as a document it still goes.
      if (!(err instanceof GrammyError) || err.error_code !== 400) throw err;
      out.log.debug({ problem: safeProblem(err, out.token) }, 'telegram photo sent as a document');
    }
  }
  return (await out.api.sendDocument(chat, input(), other, out.signal)).message_id;
}

function notModified(err: unknown): boolean {
  return err instanceof GrammyError && /message is not modified/.test(err.description);
}

/** grammY writes the name unquoted into the part's header: keep it to one plain token. */
function multipartName(name: string): string {
  return name.replace(/[;"\\\r\n]/g, '_');
}
