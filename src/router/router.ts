import type { Logger } from 'pino';
import type { InboundMessage } from '../channels/channel.js';
import type { Store } from '../store/store.js';
import { GroupQueue } from './group-queue.js';
import type { RunOutcome } from './group-run.js';

export type ReceiveResult =
  | { accepted: true; messageId: number; run: Promise<RunOutcome> }
  | { accepted: false; reason: string };

/**
 * Inbound routing: find the chat's group, store the message (before anything else, so it is
 * never lost), and queue a run for the group. The run's outcome is handed back for the
 * caller to deliver.
 */
export class Router {
  private readonly queue: GroupQueue<RunOutcome>;

  constructor(
    private readonly store: Store,
    run: (groupId: number) => Promise<RunOutcome>,
    private readonly log: Logger,
  ) {
    this.queue = new GroupQueue(run);
  }

  receive(message: InboundMessage): ReceiveResult {
    const group = this.store.groups.forChat(message.channel, message.chatId);
    if (!group) {
      this.log.warn(
        { channel: message.channel, chatId: message.chatId },
        'message from an unregistered chat',
      );
      return {
        accepted: false,
        reason: `chat ${message.channel}:${message.chatId} is not registered with any group`,
      };
    }
    const stored = this.store.messages.add({
      groupId: group.id,
      channel: message.channel,
      chatId: message.chatId,
      direction: 'in',
      sender: message.sender,
      senderName: message.senderName,
      text: message.text,
    });
    this.log.info({ group: group.name, messageId: stored.id }, 'message stored');
    return { accepted: true, messageId: stored.id, run: this.queue.enqueue(group.id) };
  }

  busyGroups(): number[] {
    return this.queue.busyGroups();
  }
}
