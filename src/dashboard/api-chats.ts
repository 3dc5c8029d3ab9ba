import type {
  ConversationInfo,
  ConversationMessage,
} from '../channels/web/dashboard-types-chats.js';
import { call } from './api.js';

export type * from '../channels/web/dashboard-types-chats.js';

/** `channel:chatId`, the key a conversation is picked by in the page. */
export const conversationKey = (c: Pick<ConversationInfo, 'channel' | 'chatId'>): string =>
  `${c.channel}:${c.chatId}`;

/** Newer messages appended to what is shown, each once, in id order. */
export function mergeConversation(
  shown: ConversationMessage[],
  newer: ConversationMessage[],
): ConversationMessage[] {
  const byId = new Map(shown.map((m) => [m.id, m]));
  for (const m of newer) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** The all-chats routes (src/channels/web/owner-api-chats.ts), typed. */
export const chatsApi = {
  list: async () =>
    (await call<{ conversations: ConversationInfo[] }>('GET', '/api/conversations')).conversations,
  messages: async (channel: string, chatId: string, after: number) => {
    const q = new URLSearchParams({ channel, chat: chatId, after: String(after) });
    return (
      await call<{ messages: ConversationMessage[] }>('GET', `/api/conversations/messages?${q}`)
    ).messages;
  },
};
