import type { Logger } from 'pino';
import type { Action, ChannelHandlers, Receipt } from '../channel.js';
import { clickedAction } from './slack-blocks.js';
import { readClick, type SlackClick } from './slack-inbound.js';
import { escapeMrkdwn } from './slack-mrkdwn.js';
import { describeError, type WebClient } from './slack-web.js';

const MAX_REASON_CHARS = 3000;
const NOT_SHOWN = 'This button is not one I showed, or it has expired.';

export interface ClickDeps {
  channelName: string;
  web: WebClient;
  handlers: ChannelHandlers;
  log: Logger;
  /** The actions the channel showed on a message it sent, if it still remembers them. */
  shownOn(chatId: string, ts: string): Action[] | undefined;
  /**
   * Slack fails a click not acknowledged within 3 s; a host slower than this gets the click
   * acknowledged first and a refusal, if any, afterwards.
   */
  answerWithinMs: number;
}

/**
 * An `interactive` envelope. A button click is refused unless the button is one this channel
 * put on that very message; otherwise it goes to `onAction`. Stored: acknowledged, nothing
 * said. Refused: the reason as an ephemeral message only the clicker sees. Anything else
 * (a shortcut, a modal) is acknowledged and dropped.
 */
export async function answerClick(
  payload: unknown,
  ack: () => Promise<void>,
  deps: ClickDeps,
): Promise<void> {
  const click = readClick(payload);
  if (!click) {
    deps.log.debug('slack interaction ignored (not a button on a message)');
    return ack();
  }
  const actions = deps.shownOn(click.chatId, click.messageTs);
  const action = actions ? clickedAction(click.actionId, click.value, actions) : null;
  if (!action) {
    await tellClicker(click, NOT_SHOWN, deps);
    return ack();
  }
  try {
    await hostAnswers(click, action, ack, deps);
  } catch (err) {
    deps.log.error({ err, chatId: click.chatId }, 'slack click not handled');
    await tellClicker(click, 'Sorry, this click could not be taken in. Please try again.', deps);
    await ack().catch(() => undefined);
  }
}

async function hostAnswers(
  click: SlackClick,
  action: Action,
  ack: () => Promise<void>,
  deps: ClickDeps,
): Promise<void> {
  const receipt = deps.handlers.onAction({
    channel: deps.channelName,
    chatId: click.chatId,
    sender: click.sender,
    senderName: click.senderName,
    actionId: action.id,
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deps.answerWithinMs);
  });
  const first: Receipt | 'late' = await Promise.race([receipt, late]).finally(() =>
    clearTimeout(timer),
  );
  if (first === 'late') await ack();
  const final = first === 'late' ? await receipt : first;
  if (final.status === 'refused') await tellClicker(click, final.reason, deps);
  if (first !== 'late') await ack();
}

async function tellClicker(click: SlackClick, text: string, deps: ClickDeps): Promise<void> {
  await deps.web.chat
    .postEphemeral({
      channel: click.chatId,
      user: click.sender,
      text: escapeMrkdwn(text.slice(0, MAX_REASON_CHARS)),
    })
    .catch((err: unknown) =>
      deps.log.warn({ err: describeError(err) }, 'slack click refusal not shown'),
    );
}
