import { MessageFlags, type ButtonInteraction } from 'discord.js';
import type { Action, ChannelHandlers, Receipt } from '../channel.js';
import { decodeButtonId } from './discord-buttons.js';
import { chatIdOf } from './discord-inbound.js';

const MAX_REASON_CHARS = 2000;
const MAX_NAME_CHARS = 100;
/** Model output and host reasons must never ping anyone. */
const NO_MENTIONS = { parse: [] as never[] };

export interface ClickDeps {
  channelName: string;
  handlers: ChannelHandlers;
  /** The actions the channel showed on a message it sent, if it still remembers them. */
  shownOn(messageId: string): Action[] | undefined;
  /**
   * Discord fails a click that is not answered within 3 s; a host slower than this gets the
   * click acknowledged first and a refusal, if any, as a follow-up only the clicker sees.
   */
  answerWithinMs: number;
}

/**
 * A button click: refused unless the button is one this channel put on that very message;
 * otherwise handed to `onAction`. Stored: acknowledged without a message. Refused: the reason,
 * shown only to the person who clicked.
 */
export async function answerClick(interaction: ButtonInteraction, deps: ClickDeps): Promise<void> {
  const actions = deps.shownOn(interaction.message.id);
  const action = actions ? decodeButtonId(interaction.customId, actions) : null;
  if (!action) {
    await refuse(interaction, 'This button is not one I showed, or it has expired.');
    return;
  }
  const user = interaction.user;
  const receipt = deps.handlers.onAction({
    channel: deps.channelName,
    chatId: chatIdOf(
      interaction.channelId,
      interaction.channel?.isDMBased() ?? !interaction.guildId,
    ),
    sender: user.id,
    senderName: (user.globalName ?? user.username).slice(0, MAX_NAME_CHARS),
    actionId: action.id,
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deps.answerWithinMs);
  });
  const first: Receipt | 'late' = await Promise.race([receipt, late]).finally(() =>
    clearTimeout(timer),
  );
  if (first !== 'late') {
    if (first.status === 'refused') await refuse(interaction, first.reason);
    else await interaction.deferUpdate();
    return;
  }
  await interaction.deferUpdate();
  const final = await receipt;
  if (final.status === 'refused') {
    await interaction.followUp({
      content: final.reason.slice(0, MAX_REASON_CHARS),
      flags: MessageFlags.Ephemeral,
      allowedMentions: NO_MENTIONS,
    });
  }
}

async function refuse(interaction: ButtonInteraction, reason: string): Promise<void> {
  await interaction.reply({
    content: reason.slice(0, MAX_REASON_CHARS),
    flags: MessageFlags.Ephemeral,
    allowedMentions: NO_MENTIONS,
  });
}
