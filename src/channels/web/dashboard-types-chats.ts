/** GET /api/conversations: every chat bound to a group, on every channel (owner only). */
export interface ConversationInfo {
  channel: string;
  chatId: string;
  group: string;
  isAdmin: boolean;
  /** The newest stored message's time, or null when the chat has none yet. */
  lastAt: string | null;
}

/** A message of any chat, as GET /api/conversations/messages returns it. */
export interface ConversationMessage {
  id: number;
  direction: 'in' | 'out';
  senderName: string;
  text: string;
  createdAt: string;
}
