import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { Action, ChannelHandlers, InboundMedia } from '../channel.js';
import { decodeCallback } from './telegram-buttons.js';
import { fetchFile, type FileSource } from './telegram-files.js';
import { safeProblem } from './telegram-problem.js';
import type { ApiSignal } from './telegram-signal.js';
import type { TelegramInbound } from './telegram-update.js';

/** Telegram shows at most 200 characters in a button press's answer. */
const MAX_ANSWER_CHARS = 200;
const MAX_REPLY_CHARS = 4096;
/** A stored message gets this reaction (✅ is not among Telegram's reactions). */
export const STORED_REACTION = '👍';
const NOT_SHOWN = 'This button is not one I showed, or it has expired.';

export interface InboundDeps {
  channelName: string;
  api: Api;
  handlers: ChannelHandlers;
  files: Omit<FileSource, 'api'>;
  /** The actions the channel showed on a message it sent, if it still remembers them. */
  shownOn(chatId: string, messageId: number): Action[] | undefined;
  log: Logger;
  token: string;
  signal: ApiSignal;
}

type Message = Extract<TelegramInbound, { kind: 'message' }>;
type Click = Extract<TelegramInbound, { kind: 'click' }>;

/**
 * A message: its files fetched (bounded), then handed to `onMessage`, with a line naming each
 * file not taken in and why, so neither the model nor the sender loses it silently. Rejects
 * only before the host has it (a download that broke, the store down), so the update can be
 * tried again; what goes wrong in telling the user afterwards is logged, never retried.
 */
export async function takeMessage(m: Message, deps: InboundDeps): Promise<void> {
  const media: InboundMedia[] = [];
  const tooBig = [...m.tooBig];
  for (const wanted of m.files) {
    const got = await fetchFile(wanted, { ...deps.files, api: deps.api });
    if (got.ok) media.push(got.media);
    else tooBig.push(got.reason);
  }
  const receipt = await deps.handlers.onMessage({
    channel: deps.channelName,
    chatId: m.chatId,
    sender: m.sender,
    senderName: m.senderName,
    text: [m.text, ...tooBig, ...m.notes].join('\n').trim(),
    ...(media.length > 0 ? { media } : {}),
  });
  if (receipt.status === 'stored') {
    await deps.api
      .setMessageReaction(
        m.chatId,
        m.messageId,
        [{ type: 'emoji', emoji: STORED_REACTION }],
        {},
        deps.signal,
      )
      .catch((err: unknown) => {
        // A group may not allow reactions; the message is stored all the same.
        deps.log.debug(
          { chatId: m.chatId, problem: safeProblem(err, deps.token) },
          'telegram receipt reaction not set',
        );
      });
    // Only a chat the host answers learns that a file was left out, and why.
    if (tooBig.length > 0) {
      await tell(deps, m, `Not everything came through:\n${tooBig.join('\n')}`);
    }
  } else if (receipt.status === 'refused') {
    await tell(deps, m, receipt.reason);
  }
}

/**
 * A button press: refused unless the button is one this channel put on that very message in
 * that chat; otherwise handed to `onAction`. Always answered, so the user's spinner stops:
 * silently when taken, with an alert giving the reason when refused.
 */
export async function takeClick(c: Click, deps: InboundDeps): Promise<void> {
  const actions = c.messageId === null ? undefined : deps.shownOn(c.chatId, c.messageId);
  const action = actions ? decodeCallback(c.data, actions) : null;
  if (!action) {
    deps.log.info({ chatId: c.chatId }, 'telegram press on a button not shown refused');
    await answer(deps, c, NOT_SHOWN);
    return;
  }
  const receipt = await deps.handlers.onAction({
    channel: deps.channelName,
    chatId: c.chatId,
    sender: c.sender,
    senderName: c.senderName,
    actionId: action.id,
  });
  await answer(deps, c, receipt.status === 'refused' ? receipt.reason : null);
}

async function tell(deps: InboundDeps, m: Message, text: string): Promise<void> {
  await deps.api
    .sendMessage(
      m.chatId,
      text.slice(0, MAX_REPLY_CHARS),
      { reply_parameters: { message_id: m.messageId, allow_sending_without_reply: true } },
      deps.signal,
    )
    .catch((err: unknown) => {
      deps.log.warn(
        { chatId: m.chatId, problem: safeProblem(err, deps.token) },
        'telegram reply not sent',
      );
    });
}

async function answer(deps: InboundDeps, c: Click, refusal: string | null): Promise<void> {
  const other =
    refusal === null ? {} : { text: refusal.slice(0, MAX_ANSWER_CHARS), show_alert: true };
  await deps.api.answerCallbackQuery(c.queryId, other, deps.signal).catch((err: unknown) => {
    deps.log.warn(
      { chatId: c.chatId, problem: safeProblem(err, deps.token) },
      'telegram button press not answered',
    );
  });
}
