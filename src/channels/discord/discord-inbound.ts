import type { Message } from 'discord.js';

/** Discord itself caps a message at 4000 characters; more is a malformed event, cut here. */
const MAX_INBOUND_CHARS = 8000;
/** A server channel's id, or `dm-<id>` for a direct-message channel (see the channel table). */
const CHAT_ID = /^(dm-)?([1-9]\d{16,19})$/;

/**
 * The text the host gets: the content (cut when far over Discord's own limit) and a line
 * per file that was not taken in (`notes`), so the sender and the model know.
 */
export function inboundText(message: Message, notes: readonly string[] = []): string {
  const content = message.content ?? '';
  const lines = [
    content.length > MAX_INBOUND_CHARS
      ? `${content.slice(0, MAX_INBOUND_CHARS)}\n[message cut at ${MAX_INBOUND_CHARS} characters]`
      : content,
    ...notes,
  ];
  return lines.join('\n').trim();
}

/** The platform's channel id behind a chat id the host gives; anything else is a bug. */
export function platformId(chatId: string): string {
  const match = CHAT_ID.exec(chatId);
  if (!match) throw new RangeError(`"${chatId.slice(0, 40)}" is not a discord chat id`);
  return match[2]!;
}

/** A direct-message channel's chat id says so (`dm-`): pairing is only accepted there. */
export function chatIdOf(channelId: string, isDm: boolean): string {
  return isDm ? `dm-${channelId}` : channelId;
}
