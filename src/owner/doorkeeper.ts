import type { Logger } from 'pino';
import type { InboundMessage } from '../channels/channel.js';
import { KNOWN_CHANNELS, knownChannel, type KnownChannel } from '../channels/registry.js';
import type { Doorkeeper, ReceiveResult } from '../router/router.js';
import { cleanSenderName } from '../router/sender-name.js';
import type { Group } from '../store/groups.js';
import type { Store } from '../store/store.js';
import type { AuditEvent } from '../audit/audit-event.js';
import type { ChatRef } from './home-chat.js';

/** `pair CODE` (or `/pair CODE`, as a bot command), alone on the line. */
const PAIR = /^\s*\/?pair\s+([A-Za-z0-9]{4,16})\s*$/i;

export interface DoorkeeperDeps {
  store: Store;
  adminGroup: Group;
  /** The owner hears of each new chat bound to no group, and of each pairing (`except` that chat). */
  notifyOwner(text: string, except?: ChatRef): void;
  /** Answers the chat that paired (stored in the admin group, then delivered). */
  reply(groupId: number, channel: string, chatId: string, text: string): number;
  audit: { append(event: AuditEvent): unknown };
  log: Logger;
  now?: () => Date;
  channels?: readonly KnownChannel[];
}

/**
 * Who the assistant answers on the chat platforms: only chats bound to a group, and in the
 * owner's admin group only the owner's paired accounts. A chat bound to no group is never
 * answered and never reaches a model (the owner is told once, with the command that binds
 * it); `pair CODE` in a direct chat, with the code `nanocell pair CHANNEL` printed, makes the
 * sender the owner on that platform and joins the chat to the admin group. The terminal and
 * the web are the host's own surfaces and keep their own rules.
 */
export function ownerDoorkeeper(deps: DoorkeeperDeps): Doorkeeper {
  const now = deps.now ?? (() => new Date());
  const channels = deps.channels ?? KNOWN_CHANNELS;
  const { store, adminGroup } = deps;

  const pair = (message: InboundMessage, code: string): ReceiveResult => {
    const result = store.owners.pair(message.channel, message.sender, message.chatId, code, now());
    if (!result.ok) {
      deps.log.warn({ channel: message.channel, reason: result.reason }, 'pairing refused');
      return {
        status: 'refused',
        reason:
          result.reason === 'expired'
            ? `that pairing code has expired; run nanocell pair ${message.channel} for a new one`
            : `that is not the pairing code; check it, or run nanocell pair ${message.channel} for a new one`,
      };
    }
    const chat = `${message.channel}:${message.chatId}`;
    const who = `${cleanSenderName(message.senderName) || 'someone'} (${message.channel} id ${message.sender})`;
    const stored = store.transaction(() => {
      if (!store.groups.forChat(message.channel, message.chatId)) {
        store.groups.bindChat(message.channel, message.chatId, adminGroup.id);
      }
      return store.messages.add({
        groupId: adminGroup.id,
        channel: message.channel,
        chatId: message.chatId,
        direction: 'in',
        sender: message.sender,
        senderName: cleanSenderName(message.senderName),
        text: 'pair ********',
        triggered: false,
      });
    });
    deps.audit.append({
      type: 'group_change',
      group: adminGroup.name,
      action: 'updated',
      by: `owner (pairing on ${message.channel})`,
      summary: `paired ${message.channel} account ${message.sender}; ${chat} joined the admin group`,
    });
    deps.log.info({ channel: message.channel, chatId: message.chatId }, 'owner account paired');
    deps.notifyOwner(
      `${who} paired as you, the owner, on ${message.channel}; ${chat} is now an admin chat. If that was not you, remove it with: nanocell groups unbind ${chat}`,
      { channel: message.channel, chatId: message.chatId },
    );
    const text = `Paired: you are the owner on ${message.channel}, and this chat is your admin chat. Approvals and notices come here too.`;
    const messageId = deps.reply(adminGroup.id, message.channel, message.chatId, text);
    return {
      status: 'stored',
      id: stored.id,
      run: Promise.resolve({ ok: true, reply: text, messageId, toolCalls: 0 }),
    };
  };

  const unbound = (message: InboundMessage): ReceiveResult => {
    const chat = `${message.channel}:${message.chatId}`;
    deps.log.warn(
      { channel: message.channel, chatId: message.chatId },
      'message from a chat bound to no group: ignored',
    );
    if (store.owners.firstSightOfUnboundChat(message.channel, message.chatId, now())) {
      const name = cleanSenderName(message.senderName) || `id ${message.sender}`;
      deps.notifyOwner(
        `A chat I do not answer wrote to me: ${chat} (from ${name}). Nothing of it reaches a model. To have a group answer it: nanocell groups add NAME --chat ${chat}`,
      );
    }
    return { status: 'ignored' };
  };

  return {
    admit(message, group) {
      const known = knownChannel(message.channel, channels);
      if (known?.builtIn) return null;
      const code = PAIR.exec(message.text)?.[1];
      if (
        code &&
        known?.isDirectChat(message.chatId, message.sender) &&
        (!group || group.isAdmin) &&
        store.owners.hasPairingCode(message.channel)
      ) {
        return pair(message, code);
      }
      if (!group) return unbound(message);
      if (group.isAdmin && !store.owners.isOwner(message.channel, message.sender)) {
        deps.log.warn(
          { channel: message.channel, chatId: message.chatId },
          'admin chat: not the owner',
        );
        return {
          status: 'refused',
          reason: `only the owner's paired ${message.channel} account can use this admin chat (the owner runs nanocell pair ${message.channel} and sends the code here in a direct chat)`,
        };
      }
      return null;
    },
  };
}
