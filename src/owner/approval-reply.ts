import type { InboundMessage } from '../channels/channel.js';
import type { HostEventSink } from '../control/host-events.js';
import { parseApprovalReply } from '../policy/approval-message.js';
import { APPROVAL_CODE_ALPHABET, type Approvals } from '../policy/approvals.js';
import type { RunOutcome } from '../run/run.js';
import type { Group } from '../store/groups.js';
import type { OwnerNotifier } from './owner-notifier.js';

export interface ApprovalReplyDeps {
  approvals: Pick<Approvals, 'answer'>;
  /** The owner's other surfaces hear that the question they were shown is answered. */
  owner?: Pick<OwnerNotifier, 'notify'>;
  outbox: {
    send(
      groupId: number,
      channel: string,
      chatId: string,
      text: string,
      senderName: string,
    ): number;
  };
  assistantName: string;
  events?: HostEventSink;
}

/**
 * Whether a message is the owner speaking: anything in the admin group's chats, and the
 * terminal, which only the owner can reach (locally, or over the owner-only control socket).
 * Anyone else in a shared chat cannot answer an approval, even by typing its code.
 */
export function isOwnerMessage(group: Group, message: InboundMessage): boolean {
  return group.isAdmin || message.channel === 'terminal';
}

/**
 * The owner's `yes CODE` / `no CODE`, from whichever surface: answered at once (before any
 * queue, so a run waiting for it is not stuck behind it), exactly once — a second answer is
 * told it was already answered — and confirmed in the chat it came from. Returns null when
 * the message is not an approval reply from the owner.
 */
export function approvalReplyHandler(
  deps: ApprovalReplyDeps,
): (group: Group, message: InboundMessage) => RunOutcome | null {
  return (group, message) => {
    if (!isOwnerMessage(group, message)) return null;
    const parsed = parseApprovalReply(message.text);
    // "yes please" is six letters too: a word that cannot be a code is a message for the model.
    if (!parsed || ![...parsed.code].every((c) => APPROVAL_CODE_ALPHABET.includes(c))) return null;
    const result = deps.approvals.answer(parsed.code, parsed.answer);
    const reply = result.ok
      ? `${parsed.answer === 'yes' ? 'Approved' : 'Denied'}: ${result.approval.tool} for ${result.approval.groupName} (${result.approval.code}).`
      : result.reason;
    if (result.ok) {
      // Not on the channel it came from: that surface shows the reply below already.
      deps.owner?.notify(
        `Answered on ${message.channel}: ${reply}`,
        (chat) => chat.channel === message.channel,
      );
      deps.events?.({
        type: 'approval_answered',
        group: result.approval.groupName,
        tool: result.approval.tool,
        code: result.approval.code,
        answer: parsed.answer,
        via: `${message.channel}:${message.chatId}`,
      });
    }
    const messageId = deps.outbox.send(
      group.id,
      message.channel,
      message.chatId,
      reply,
      deps.assistantName,
    );
    return { ok: true, reply, messageId, toolCalls: 0 };
  };
}
