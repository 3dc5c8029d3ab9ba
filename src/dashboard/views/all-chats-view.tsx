import { useEffect, useRef, useState } from 'preact/hooks';
import {
  chatsApi,
  conversationKey,
  mergeConversation,
  type ConversationInfo,
  type ConversationMessage,
} from '../api-chats.js';
import { MessageItem } from './message-item.js';

const REFRESH_MS = 3000;

/**
 * Every chat of every group on every channel (Telegram, Slack, email, the terminal, ...), to
 * read: a platform chat is answered on its platform, so there is no box to write in here.
 */
export function AllChatsView(props: { renderMarkdown: (text: string) => string }) {
  const [chats, setChats] = useState<ConversationInfo[] | undefined>();
  const [picked, setPicked] = useState<string>('');
  const [messages, setMessages] = useState<ConversationMessage[]>([]);
  const [problem, setProblem] = useState('');
  const shown = useRef(messages);
  shown.current = messages;
  const chat = chats?.find((c) => conversationKey(c) === picked);

  useEffect(() => {
    chatsApi.list().then(
      (found) => {
        setChats(found);
        if (!picked && found[0]) setPicked(conversationKey(found[0]));
      },
      (err: Error) => setProblem(err.message),
    );
  }, []);

  useEffect(() => {
    if (!chat) return;
    setMessages([]);
    shown.current = [];
    let stopped = false;
    const load = () => {
      const after = shown.current.at(-1)?.id ?? 0;
      chatsApi.messages(chat.channel, chat.chatId, after).then(
        (newer) => {
          if (stopped) return;
          setMessages(mergeConversation(shown.current, newer));
          setProblem('');
        },
        (err: Error) => !stopped && setProblem(err.message),
      );
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [picked, chats]);

  return (
    <section aria-label="All chats" class="panel">
      <div class="panel-head">
        <h2>All chats</h2>
        <select
          aria-label="Conversation"
          value={picked}
          onChange={(e) => setPicked((e.target as HTMLSelectElement).value)}
        >
          {(chats ?? []).map((c) => (
            <option value={conversationKey(c)} key={conversationKey(c)}>
              {c.group} · {c.channel} {c.chatId}
            </option>
          ))}
        </select>
      </div>
      {problem && (
        <p role="alert" class="field-error">
          {problem}
        </p>
      )}
      {chats && chats.length === 0 && <p>No chat is bound to a group yet.</p>}
      {chat && (
        <p class="muted">
          {chat.channel === 'web'
            ? 'A web chat: write in it from Chat.'
            : `Read only: answer on ${chat.channel}, where this chat lives.`}
        </p>
      )}
      <div class="log" role="log" aria-label={`Messages of ${picked || 'no chat'}`}>
        {messages.map((m) => (
          <MessageItem
            key={m.id}
            message={{
              key: String(m.id),
              direction: m.direction,
              senderName: m.senderName,
              text: m.text,
              createdAt: m.createdAt,
              streaming: false,
              actions: [],
              attachments: [],
            }}
            chatId={picked}
            renderMarkdown={props.renderMarkdown}
            onClick={() => undefined}
          />
        ))}
      </div>
    </section>
  );
}
