import type { Logger } from 'pino';
import type { ChannelHandlers, InboundMedia } from '../channel.js';
import { downloadFile, type DownloadOptions } from './slack-files.js';
import type { SlackInbound } from './slack-inbound.js';
import { escapeMrkdwn } from './slack-mrkdwn.js';
import { describeError, type WebClient } from './slack-web.js';

const STORED_REACTION = 'white_check_mark';
const MAX_REPLY_CHARS = 3000;

export interface IntakeDeps {
  channelName: string;
  web: WebClient;
  handlers: ChannelHandlers;
  log: Logger;
  download: DownloadOptions;
  /** False once the channel stopped: then nothing more reaches the host. */
  isLive(): boolean;
}

/**
 * One person's message: its files fetched (bounded; one refused refuses the message, with
 * the reason in a thread reply), handed to the host, and only then acknowledged to Slack.
 * Stored: a ✅ reaction. Refused: the reason in a thread reply. Ignored: nothing. Never
 * rejects: a failure is logged and the sender asked to send again.
 */
export async function takeInMessage(
  message: SlackInbound,
  ack: () => Promise<void>,
  deps: IntakeDeps,
): Promise<void> {
  const { log } = deps;
  try {
    const media: InboundMedia[] = [];
    for (const file of message.files) {
      const got = await downloadFile(file, deps.download);
      if (!got.ok) {
        await ack();
        log.info({ chatId: message.chatId }, 'slack file refused');
        return await replyInThread(deps.web, message, got.reason);
      }
      media.push(got.media);
    }
    // A download can outlast `stop`; after it nothing reaches the host.
    if (!deps.isLive()) return;
    if (message.text === '' && media.length === 0) {
      log.debug({ chatId: message.chatId }, 'slack message without text ignored');
      return await ack();
    }
    const receipt = await deps.handlers.onMessage({
      channel: deps.channelName,
      chatId: message.chatId,
      sender: message.sender,
      senderName: message.senderName,
      text: message.text,
      ...(media.length > 0 ? { media } : {}),
    });
    await ack();
    if (receipt.status === 'stored') {
      await deps.web.reactions
        .add({ channel: message.chatId, timestamp: message.ts, name: STORED_REACTION })
        .catch((err: unknown) =>
          log.warn({ err: describeError(err) }, 'slack receipt reaction not added'),
        );
    } else if (receipt.status === 'refused') {
      await replyInThread(deps.web, message, receipt.reason);
    }
  } catch (err) {
    log.error({ err, chatId: message.chatId }, 'slack message not handled');
    await ack().catch(() => undefined);
    await replyInThread(
      deps.web,
      message,
      'Sorry, this message could not be taken in. Please send it again.',
    ).catch((e: unknown) => log.warn({ err: e }, 'slack failure notice not sent'));
  }
}

async function replyInThread(web: WebClient, message: SlackInbound, text: string): Promise<void> {
  await web.chat.postMessage({
    channel: message.chatId,
    thread_ts: message.ts,
    text: escapeMrkdwn(text.slice(0, MAX_REPLY_CHARS)),
  });
}
