import type { Store } from '../store/store.js';
import type { ChatRef } from './home-chat.js';
import type { OutboundExtras } from '../router/outbox.js';

export interface OwnerNotifierDeps {
  store: Store;
  outbox: {
    send(
      groupId: number,
      channel: string,
      chatId: string,
      text: string,
      senderName: string,
      extras?: OutboundExtras,
    ): number;
  };
  /** The owner's admin group: its chats are the surfaces the owner is on. */
  adminGroupId: number;
  assistantName: string;
}

/**
 * What is meant for the owner (an approval to answer, a task's result or failure) goes to
 * every surface the owner is on: each chat bound to the admin group (the web chat, the
 * terminal, and any other channel the owner binds), stored once per chat.
 */
export class OwnerNotifier {
  constructor(private readonly deps: OwnerNotifierDeps) {}

  /** The owner's chats, in binding order. */
  chats(): ChatRef[] {
    return this.deps.store.groups.chatsOf(this.deps.adminGroupId);
  }

  /**
   * Send `text` to each of the owner's chats but those already showing it: `except`, one
   * chat, or every chat `except` says yes to. `extras` (e.g. an approval's buttons) go with
   * each copy.
   */
  notify(
    text: string,
    except?: ChatRef | ((chat: ChatRef) => boolean),
    extras?: OutboundExtras,
  ): number[] {
    const { outbox, adminGroupId, assistantName } = this.deps;
    const skip =
      typeof except === 'function'
        ? except
        : (c: ChatRef) => !!except && c.channel === except.channel && c.chatId === except.chatId;
    return this.chats()
      .filter((c) => !skip(c))
      .map((c) => outbox.send(adminGroupId, c.channel, c.chatId, text, assistantName, extras));
  }

  isOwnerChat(chat: ChatRef): boolean {
    return this.chats().some((c) => c.channel === chat.channel && c.chatId === chat.chatId);
  }
}
