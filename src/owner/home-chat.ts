import type { Store } from '../store/store.js';

export interface ChatRef {
  channel: string;
  chatId: string;
}

/**
 * A group's home chat: where its unprompted output goes (a task with no chat of its own, a
 * message sent from another group) — the chat it last heard from, else its first bound chat.
 */
export function homeChat(store: Store, groupId: number): ChatRef | undefined {
  return store.messages.lastInboundChat(groupId) ?? store.groups.chatsOf(groupId)[0];
}
