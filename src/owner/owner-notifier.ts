import type { Store } from '../store/store.js';
import type { ChatRef } from './home-chat.js';

export interface OwnerNotifierDeps {
  store: Store;
  outbox: {
    send(
      groupId: number,
      channel: string,
      chatId: string,
      text: string,
      senderName: string,
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
   * chat, or every chat `except` says yes to.
   */
  notify(text: string, except?: ChatRef | ((chat: ChatRef) => boolean)): number[] {
    const { outbox, adminGroupId, assistantName } = this.deps;
    const skip =
      typeof except === 'function'
        ? except
        : (c: ChatRef) => !!except && c.channel === except.channel && c.chatId === except.chatId;
    return this.chats()
      .filter((c) => !skip(c))
      .map((c) => outbox.send(adminGroupId, c.channel, c.chatId, text, assistantName));
  }

  isOwnerChat(chat: ChatRef): boolean {
    return this.chats().some((c) => c.channel === chat.channel && c.chatId === chat.chatId);
  }
}
