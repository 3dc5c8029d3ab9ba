import type http from 'node:http';
import { z } from 'zod';
import type { ConversationInfo, ConversationMessage } from './dashboard-types-chats.js';
import { json } from './http-io.js';

export const MAX_CONVERSATION_PAGE = 200;

const messagesQuery = z
  .object({
    channel: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a channel name like telegram'),
    chat: z.string().min(1).max(256),
    after: z.coerce.number().int().min(0).default(0),
  })
  .strict();

/**
 * Every chat of every group, on every channel, for the owner to read in the dashboard (issue
 * 13: "every chat of every group the owner can see"). Read-only: a platform chat is answered
 * on its platform; the web chats keep their own routes, where the owner can write.
 */
export interface OwnerChatsApi {
  conversations(): ConversationInfo[];
  /** Messages after `afterId`, oldest first, at most a page; undefined for an unbound chat. */
  messages(channel: string, chatId: string, afterId: number): ConversationMessage[] | undefined;
}

export function isChatsPath(pathname: string): boolean {
  return pathname === '/api/conversations' || pathname === '/api/conversations/messages';
}

export function answerChatsApi(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  api: OwnerChatsApi,
): void {
  if (req.method !== 'GET') return json(res, 405, { error: 'use GET' });
  if (url.pathname === '/api/conversations') {
    return json(res, 200, { conversations: api.conversations() });
  }
  const raw: Record<string, string> = {};
  for (const [k, v] of url.searchParams) raw[k] = v;
  const parsed = messagesQuery.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
    return json(res, 400, { error: problems.join('; ') });
  }
  const { channel, chat, after } = parsed.data;
  const messages = api.messages(channel, chat, after);
  if (!messages) {
    return json(res, 404, {
      error: `${channel}:${chat} is bound to no group; bind it with \`nanocell groups bind\` first`,
    });
  }
  return json(res, 200, { messages });
}
