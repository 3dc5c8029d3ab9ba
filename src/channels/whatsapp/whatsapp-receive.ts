import type { WAMessage } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { describeSize } from '../attachment.js';
import type { ChannelHandlers, InboundMedia } from '../channel.js';
import { readMessage, type InboundFile } from './whatsapp-inbound.js';
import { MediaTooLargeError, type WhatsAppSocket } from './whatsapp-socket.js';

const STORED_REACTION = '✅';
/** A reply (a refusal's reason) is cut to this many characters. */
const MAX_REPLY_CHARS = 4000;

export interface ReceiveDeps {
  channelName: string;
  /** The host's handlers, or null once the channel stopped (nothing more is delivered). */
  handlers(): ChannelHandlers | null;
  /** The open connection now (it may have been replaced since the message came). */
  socket(): WhatsAppSocket | null;
  log: Logger;
  maxAttachmentBytes: number;
}

/**
 * One message from WhatsApp, taken in: skipped (with a log line for the odd ones), refused
 * by the channel itself (a file too big, or that would not download), or handed to the host
 * and answered by its receipt: stored → ✅ and a read receipt, refused → a reply quoting the
 * message with the reason, ignored → nothing at all. Never rejects for the message's fault.
 */
export async function receiveMessage(raw: WAMessage, deps: ReceiveDeps): Promise<void> {
  const { log } = deps;
  if (!deps.handlers()) return;
  const read = readMessage(raw);
  if (!read.ok) {
    const worthSaying = read.skip === 'unknown type' || read.skip === 'malformed';
    log[worthSaying ? 'info' : 'debug'](
      { skip: read.skip, detail: read.detail },
      'whatsapp message skipped',
    );
    return;
  }
  const media: InboundMedia[] = [];
  if (read.file) {
    const got = await download(raw, read.file, read.chatId, deps);
    if (!got.ok) return reply(read.chatId, raw, got.reason, deps);
    media.push(got.media);
  }
  const handlers = deps.handlers();
  if (!handlers) return;
  let receipt;
  try {
    receipt = await handlers.onMessage({
      channel: deps.channelName,
      chatId: read.chatId,
      sender: read.sender,
      senderName: read.senderName,
      text: read.text,
      ...(media.length > 0 ? { media } : {}),
    });
  } catch (err) {
    log.error({ err, chatId: read.chatId }, 'whatsapp message not handled');
    const sorry = 'Sorry, this message could not be taken in. Please send it again.';
    return reply(read.chatId, raw, sorry, deps);
  }
  if (receipt.status === 'refused') return reply(read.chatId, raw, receipt.reason, deps);
  if (receipt.status !== 'stored') return;
  const socket = deps.socket();
  if (!socket) return;
  try {
    await socket.sendMessage(read.chatId, { react: { text: STORED_REACTION, key: read.key } });
    await socket.readMessages([read.key]);
  } catch (err) {
    log.warn({ err, chatId: read.chatId }, 'whatsapp receipt not sent');
  }
}

/** The file, checked against the cap by its declared size first, then by its bytes. */
async function download(
  raw: WAMessage,
  file: InboundFile,
  chatId: string,
  deps: ReceiveDeps,
): Promise<{ ok: true; media: InboundMedia } | { ok: false; reason: string }> {
  const max = deps.maxAttachmentBytes;
  const tooBig = (size: string) => ({
    ok: false as const,
    reason: `This file is ${size}; the limit is ${describeSize(max)}. Please send a smaller one.`,
  });
  if (file.declaredBytes !== null && file.declaredBytes > max) {
    return tooBig(describeSize(file.declaredBytes));
  }
  try {
    const socket = deps.socket();
    if (!socket) throw new Error('not connected');
    const bytes = await socket.downloadMedia(raw, max);
    if (bytes.length > max) return tooBig(describeSize(bytes.length));
    return { ok: true, media: { kind: file.kind, name: file.name, mime: file.mime, bytes } };
  } catch (err) {
    if (err instanceof MediaTooLargeError) return tooBig(`over ${describeSize(max)}`);
    deps.log.warn({ err, chatId }, 'whatsapp file not downloaded');
    return {
      ok: false,
      reason: 'The file could not be downloaded from WhatsApp. Please send it again.',
    };
  }
}

async function reply(
  chatId: string,
  quoted: WAMessage,
  text: string,
  deps: ReceiveDeps,
): Promise<void> {
  const socket = deps.socket();
  if (!socket) return;
  try {
    await socket.sendMessage(chatId, { text: text.slice(0, MAX_REPLY_CHARS) }, { quoted });
  } catch (err) {
    deps.log.warn({ err, chatId }, 'whatsapp reply not sent');
  }
}
