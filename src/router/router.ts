import type { Logger } from 'pino';
import type { InboundAction, InboundMedia, InboundMessage } from '../channels/channel.js';
import type { SavedMedia } from '../media/save-inbound-media.js';
import type { Group } from '../store/groups.js';
import type { Store } from '../store/store.js';
import { GroupQueue, type QueueJob, type QueueOptions } from './group-queue.js';
import type { RunOutcome } from '../run/run.js';
import { isTriggered } from './trigger.js';
import { cleanSenderName } from './sender-name.js';

/**
 * A channel receipt (`stored` with the message id, `refused`, or `ignored`: a chat the
 * assistant does not answer), plus the run a stored message started.
 */
export type ReceiveResult =
  | {
      status: 'stored';
      id: number;
      /** The run that will answer; null when the message only adds context (no trigger). */
      run: Promise<RunOutcome> | null;
    }
  | { status: 'refused'; reason: string }
  | { status: 'ignored' };

/**
 * Decides, before a group hears a message, what the host does with one it must not simply
 * take: a pairing code, a chat bound to no group, a stranger in the owner's admin chat.
 * Returns null to let the message through to `group` (which is then defined).
 */
export interface Doorkeeper {
  admit(message: InboundMessage, group: Group | undefined): ReceiveResult | null;
}

export interface RouterOptions {
  assistantName: string;
  queue?: QueueOptions<RunOutcome>;
  /**
   * An owner's `yes CODE` / `no CODE`: answered here, before any queue, so a run waiting for
   * that approval (even the group's own) is not stuck behind it. Returns null when the
   * message is not an approval reply from the owner (see src/owner/approval-reply.ts).
   */
  approvalReply?: (group: Group, message: InboundMessage) => RunOutcome | null;
  /** `/clear`: archive the group's session and answer the message that asked for it. */
  clearSession?: (groupId: number, messageId: number) => RunOutcome;
  /** Keeps a message's files in its group's folder (src/media); without it files are dropped. */
  saveMedia?: (group: Group, media: readonly InboundMedia[]) => SavedMedia[];
  /** Without one, a chat bound to no group is refused and every bound chat is let through. */
  doorkeeper?: Doorkeeper;
}

/**
 * Inbound routing: find the chat's group, store the message (before anything else, so it is
 * never lost), and queue a run when the message calls the assistant. The run's outcome is
 * handed back for the caller to report.
 */
export class Router {
  private readonly queue: GroupQueue<RunOutcome>;

  constructor(
    private readonly store: Store,
    run: (groupId: number, job: QueueJob) => Promise<RunOutcome>,
    private readonly log: Logger,
    private readonly options: RouterOptions = { assistantName: 'Andy' },
  ) {
    this.queue = new GroupQueue(run, {
      shouldRetry: (o) => !o.ok && o.retryable,
      ...options.queue,
    });
  }

  receive(message: InboundMessage): ReceiveResult {
    const group = this.store.groups.forChat(message.channel, message.chatId);
    const decided = this.options.doorkeeper?.admit(message, group);
    if (decided) return decided;
    if (!group) {
      this.log.warn(
        { channel: message.channel, chatId: message.chatId },
        'message from an unregistered chat',
      );
      return {
        status: 'refused',
        reason: `chat ${message.channel}:${message.chatId} is not bound to any group (the owner binds it with: nanocell groups add NAME --chat ${message.channel}:${message.chatId})`,
      };
    }
    const approval = this.options.approvalReply?.(group, message) ?? null;
    if (approval) {
      const stored = this.store.messages.add({
        groupId: group.id,
        channel: message.channel,
        chatId: message.chatId,
        direction: 'in',
        sender: message.sender,
        senderName: cleanSenderName(message.senderName),
        text: message.text,
        triggered: false,
      });
      this.log.info({ group: group.name, messageId: stored.id }, 'approval answered');
      return { status: 'stored', id: stored.id, run: Promise.resolve(approval) };
    }
    const triggered = isTriggered(group, message.text, this.options.assistantName);
    const media = this.keepMedia(group, message.media ?? []);
    const stored = this.store.messages.add({
      groupId: group.id,
      channel: message.channel,
      chatId: message.chatId,
      direction: 'in',
      sender: message.sender,
      senderName: cleanSenderName(message.senderName),
      text: message.text,
      triggered,
      media,
    });
    this.log.info(
      { group: group.name, messageId: stored.id, triggered, files: media.length },
      'message stored',
    );
    if (!triggered) return { status: 'stored', id: stored.id, run: null };
    if (this.options.clearSession && isClearCommand(message.text)) {
      const outcome = this.options.clearSession(group.id, stored.id);
      return { status: 'stored', id: stored.id, run: Promise.resolve(outcome) };
    }
    return { status: 'stored', id: stored.id, run: this.queue.enqueue(group.id) };
  }

  /**
   * A click on a button: an action id is the reply it stands for (`yes K3F9`), so a click is
   * that reply from the same chat and sender, stored and judged like one (an approval counts
   * only in the admin group).
   */
  receiveAction(action: InboundAction): ReceiveResult {
    const { actionId, ...from } = action;
    return this.receive({ ...from, text: actionId });
  }

  private keepMedia(group: Group, media: readonly InboundMedia[]): SavedMedia[] {
    if (media.length === 0) return [];
    const saved =
      this.options.saveMedia?.(group, media) ??
      media.map((m) => ({
        kind: m.kind,
        name: '',
        mime: '',
        size: m.bytes.length,
        dropped: 'this host keeps no files',
      }));
    for (const m of saved) {
      if (m.dropped)
        this.log.warn({ group: group.name, kind: m.kind, reason: m.dropped }, 'file not kept');
    }
    return saved;
  }

  /** Queue a run of a scheduled task in its group's queue. */
  runTask(groupId: number, taskId: number): Promise<RunOutcome> {
    return this.queue.enqueue(groupId, { kind: 'task', taskId });
  }

  /** Queue a messages run for a group, e.g. to finish work a crash interrupted. */
  resume(groupId: number): Promise<RunOutcome> {
    return this.queue.enqueue(groupId);
  }

  busyGroups(): number[] {
    return this.queue.busyGroups();
  }

  queueStats(): { running: number; waiting: number } {
    return this.queue.stats();
  }

  queueByGroup(): Array<{ groupId: number; running: boolean; waiting: number }> {
    return this.queue.perGroup();
  }
}

function isClearCommand(text: string): boolean {
  return /^\s*(@\S+\s+)?\/clear\s*$/i.test(text);
}
