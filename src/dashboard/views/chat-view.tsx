import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, type WebChatInfo } from '../api.js';
import { activityApi } from '../api-activity.js';
import {
  addToolSteps,
  applyLive,
  emptyTimeline,
  lastHistoryId,
  mergeHistory,
  shownItems,
  type Timeline,
} from '../chat-timeline.js';
import type { LiveListener } from './app.js';
import { Composer } from './composer.js';
import { MessageItem } from './message-item.js';
import { ToolCard } from './tool-card.js';

/** The working indicator goes when no typing signal came for this long (the host repeats it every 4 s). */
const WORKING_FOR_MS = 10_000;

const firstChat = (chats: WebChatInfo[]) =>
  new URLSearchParams(location.search).get('chat') ??
  chats.find((c) => c.isAdmin)?.chatId ??
  chats[0]?.chatId ??
  'owner';

export function ChatView(props: {
  chats: WebChatInfo[];
  subscribe: (listener: LiveListener, onReconnect: () => void) => () => void;
  renderMarkdown: (text: string) => string;
}) {
  const [chatId, setChatId] = useState(() => firstChat(props.chats));
  const [timeline, setTimeline] = useState<Timeline>(emptyTimeline);
  const [working, setWorking] = useState(false);
  const [problem, setProblem] = useState('');
  const current = useRef(timeline);
  current.current = timeline;
  const polling = useRef<Promise<void> | null>(null);
  const again = useRef(false);
  const workingTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const log = useRef<HTMLDivElement>(null);
  const group = props.chats.find((c) => c.chatId === chatId)?.group ?? null;
  /** Read by a poll already running when the chats (and so the group) arrive. */
  const groupRef = useRef(group);
  groupRef.current = group;

  useEffect(() => {
    if (props.chats.length > 0 && !props.chats.some((c) => c.chatId === chatId)) {
      setChatId(firstChat(props.chats));
    }
  }, [props.chats]);

  /** One poll at a time; a request meanwhile makes one more after it. */
  const poll = useCallback((): Promise<void> => {
    if (polling.current) {
      again.current = true;
      return polling.current;
    }
    polling.current = (async () => {
      do {
        again.current = false;
        const tickAtStart = current.current.tick;
        try {
          const messages = await api.messages(chatId, lastHistoryId(current.current));
          current.current = mergeHistory(current.current, messages, tickAtStart);
          // The group's tool calls as stored (a member's link may not see them: none shown).
          const toolsOf = groupRef.current;
          if (toolsOf !== null && (messages.length > 0 || current.current.tools.size === 0)) {
            const steps = await activityApi.toolSteps(toolsOf).catch(() => []);
            current.current = addToolSteps(current.current, steps);
          }
          // A stored reply and nothing streaming: the run is done (a longer one signals again).
          if (messages.some((m) => m.direction === 'out') && current.current.live.size === 0) {
            clearTimeout(workingTimer.current);
            setWorking(false);
          }
          setTimeline(current.current);
          setProblem('');
        } catch (err) {
          setProblem((err as Error).message);
        }
      } while (again.current);
    })().finally(() => {
      polling.current = null;
    });
    return polling.current;
  }, [chatId]);
  // The chats (and so this chat's group) may arrive after the first poll: poll again then.
  useEffect(() => {
    if (group !== null) void poll();
  }, [group]);

  useEffect(() => {
    current.current = emptyTimeline();
    setTimeline(current.current);
    setWorking(false);
    void poll();
    return props.subscribe(
      (event) => {
        if (event.type === 'tool') {
          if (event.group !== groupRef.current) return;
          current.current = applyLive(current.current, event);
          setTimeline(current.current);
          return;
        }
        if (event.chatId !== chatId) return;
        if (event.type === 'typing') {
          clearTimeout(workingTimer.current);
          setWorking(true);
          workingTimer.current = setTimeout(() => setWorking(false), WORKING_FOR_MS);
          return;
        }
        current.current = applyLive(current.current, event);
        setTimeline(current.current);
        void poll();
      },
      () => void poll(),
    );
  }, [chatId, poll]);

  const items = shownItems(timeline);
  const shown = items.map((i) => (i.kind === 'message' ? i.message.text : i.key));
  /** Follow new messages only while the reader is at the bottom, not while reading back. */
  const atBottom = useRef(true);
  useEffect(() => {
    const box = log.current;
    if (box && atBottom.current) box.scrollTop = box.scrollHeight;
  }, [shown.length, shown.at(-1)]);
  useEffect(() => () => clearTimeout(workingTimer.current), []);

  const send = async (text: string): Promise<string | null> => {
    try {
      const receipt = await api.send(chatId, text);
      void poll();
      return receipt.stored
        ? null
        : 'not stored: nothing answers in this chat (it is bound to no group)';
    } catch (err) {
      return (err as Error).message;
    }
  };
  const click = async (actionId: string) => {
    try {
      await api.click(chatId, actionId);
      void poll();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  const chat = props.chats.find((c) => c.chatId === chatId);
  return (
    <section class="chat" aria-label="Chat">
      <div class="chat-head">
        <label class="chat-pick">
          <span>Chat</span>
          <select value={chatId} onChange={(e) => setChatId((e.target as HTMLSelectElement).value)}>
            {(props.chats.length ? props.chats : [{ chatId, group: null, isAdmin: false }]).map(
              (c) => (
                <option key={c.chatId} value={c.chatId}>
                  {c.chatId}
                  {c.group ? ` · ${c.group}` : ''}
                </option>
              ),
            )}
          </select>
        </label>
        {chat?.group && <span class="muted">group {chat.group}</span>}
      </div>
      <div
        class="log"
        role="log"
        aria-label="Messages"
        tabIndex={0}
        ref={log}
        onScroll={(e) => {
          const box = e.currentTarget;
          atBottom.current = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
        }}
      >
        {shown.length === 0 && <p class="muted empty">No messages yet. Say hello.</p>}
        {items.map((item) =>
          item.kind === 'tool' ? (
            <ToolCard key={item.key} step={item.step} />
          ) : (
            <MessageItem
              key={item.key}
              message={item.message}
              chatId={chatId}
              renderMarkdown={props.renderMarkdown}
              onClick={click}
            />
          ),
        )}
      </div>
      <p class="working" aria-live="polite">
        {working ? 'Working…' : ''}
      </p>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <Composer key={chatId} onSend={send} />
    </section>
  );
}
