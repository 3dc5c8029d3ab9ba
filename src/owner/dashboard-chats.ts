import type { OwnerChatsApi } from '../channels/web/owner-api-chats.js';
import { MAX_CONVERSATION_PAGE } from '../channels/web/owner-api-chats.js';
import type { ConversationInfo } from '../channels/web/dashboard-types-chats.js';
import type { Store } from '../store/store.js';

/** The owner's view of every bound chat: store rows mapped to the page's types, nothing else. */
export function dashboardChats(store: Store): OwnerChatsApi {
  return {
    conversations: () => {
      const out: ConversationInfo[] = [];
      for (const g of store.groups.list()) {
        for (const c of store.groups.chatsOf(g.id)) {
          const last = store.messages.chatHistoryBefore(c.channel, c.chatId, 1)[0];
          out.push({
            channel: c.channel,
            chatId: c.chatId,
            group: g.name,
            isAdmin: g.isAdmin,
            lastAt: last?.createdAt ?? null,
          });
        }
      }
      // The busiest first: where the owner most likely wants to look.
      return out.sort((a, b) => (b.lastAt ?? '').localeCompare(a.lastAt ?? ''));
    },
    messages: (channel, chatId, afterId) => {
      if (!store.groups.forChat(channel, chatId)) return undefined;
      const rows =
        afterId === 0
          ? store.messages.chatHistoryBefore(channel, chatId, MAX_CONVERSATION_PAGE).reverse()
          : store.messages.chatHistory(channel, chatId, afterId, MAX_CONVERSATION_PAGE);
      return rows.map((m) => ({
        id: m.id,
        direction: m.direction,
        senderName: m.senderName,
        text: m.text,
        createdAt: m.createdAt,
      }));
    },
  };
}
