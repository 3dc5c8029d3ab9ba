import type { Message } from 'discord.js';
import { boundedDownload, mb } from '../bounded-download.js';
import type { InboundMedia, InboundMediaKind } from '../channel.js';

const MAX_FILES = 10;
/** Where Discord serves attachments. */
const DISCORD_FILE_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'];

export interface DiscordMediaOptions {
  maxBytes: number;
  /** More hosts to accept (the REST host of a self-hosted or test Discord). */
  extraHosts: readonly string[];
}

/**
 * A message's attachments, downloaded (bounded) for the host: images for the model to see,
 * voice messages and audio for transcription, everything else as a document. A file that is
 * too big or cannot be fetched becomes a line in the text, so the sender and the model know.
 */
export async function takeAttachments(
  message: Message,
  options: DiscordMediaOptions,
): Promise<{ media: InboundMedia[]; notes: string[] }> {
  const media: InboundMedia[] = [];
  const notes: string[] = [];
  let count = 0;
  for (const file of message.attachments.values()) {
    const name = file.name.replace(/[^\p{L}\p{N} ._-]/gu, '?').slice(0, 80);
    if (++count > MAX_FILES) {
      notes.push(`[file not taken in: ${name} (at most ${MAX_FILES} files a message)]`);
      continue;
    }
    if (file.size > options.maxBytes) {
      notes.push(
        `[file not taken in: ${name} (${file.size} bytes): it is over the ${mb(options.maxBytes)} limit]`,
      );
      continue;
    }
    const got = await boundedDownload(file.url, {
      maxBytes: options.maxBytes,
      allowedHosts: [...DISCORD_FILE_HOSTS, ...options.extraHosts],
    });
    if (!got.ok) {
      notes.push(`[file not taken in: ${name}: ${got.reason}]`);
      continue;
    }
    const mime = (file.contentType ?? 'application/octet-stream')
      .split(';')[0]!
      .trim()
      .slice(0, 100);
    media.push({
      kind: kindOf(mime, file.duration !== null),
      name: file.name.slice(0, 200),
      mime,
      bytes: got.bytes,
    });
  }
  return { media, notes };
}

function kindOf(mime: string, hasDuration: boolean): InboundMediaKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/') || hasDuration) return 'voice';
  return 'document';
}
