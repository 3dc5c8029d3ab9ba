import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, type PendingApprovalInfo, type WebChatInfo, type WebIdentity } from '../api.js';
import { openLiveEvents, type ConnectionState, type LiveEvent } from '../live-events.js';
import { ActivityView } from './activity-view.js';
import { ApprovalsView } from './approvals-view.js';
import { AuditView } from './audit-view.js';
import { ChatView } from './chat-view.js';
import { ConnectionBadge } from './connection-badge.js';
import { FilesView } from './files-view.js';
import { AllChatsView } from './all-chats-view.js';
import { EgressView } from './egress-view.js';
import { PolicyView } from './policy-view.js';
import { GroupsView } from './groups-view.js';
import { TasksView } from './tasks-view.js';
import { UsageView } from './usage-view.js';

type Tab =
  | 'chat'
  | 'chats'
  | 'approvals'
  | 'groups'
  | 'tasks'
  | 'files'
  | 'activity'
  | 'usage'
  | 'audit'
  | 'egress'
  | 'policy';
const TABS: Array<{ tab: Tab; label: string }> = [
  { tab: 'chat', label: 'Chat' },
  { tab: 'chats', label: 'All chats' },
  { tab: 'approvals', label: 'Approvals' },
  { tab: 'groups', label: 'Groups' },
  { tab: 'tasks', label: 'Tasks' },
  { tab: 'files', label: 'Files' },
  { tab: 'activity', label: 'Activity' },
  { tab: 'usage', label: 'Usage' },
  { tab: 'audit', label: 'Audit' },
  { tab: 'egress', label: 'Egress' },
  { tab: 'policy', label: 'Policy' },
];
const APPROVALS_REFRESH_MS = 15_000;

const tabOfHash = (): Tab => {
  const name = location.hash.replace(/^#\/?/, '');
  return TABS.some((t) => t.tab === name) ? (name as Tab) : 'chat';
};

export type LiveListener = (event: LiveEvent) => void;

/** The whole page: who is signed in, the header, one view at a time. */
export function App({ renderMarkdown }: { renderMarkdown: (text: string) => string }) {
  const [me, setMe] = useState<WebIdentity | null | 'signed-out'>(null);
  const [problem, setProblem] = useState('');
  const [chats, setChats] = useState<WebChatInfo[]>([]);
  const [tab, setTab] = useState<Tab>(tabOfHash());
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [approvals, setApprovals] = useState<PendingApprovalInfo[]>([]);
  const listeners = useRef(new Set<LiveListener>());
  const reconnects = useRef(new Set<() => void>());
  const isOwner = me !== null && me !== 'signed-out' && me.kind === 'owner';

  useEffect(() => {
    api.me().then(
      (who) => setMe(who),
      (err: Error & { status?: number }) => {
        if (err.status === 401) setMe('signed-out');
        else setProblem(err.message);
      },
    );
    const onHash = () => setTab(tabOfHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const refreshApprovals = useCallback(() => {
    if (!isOwner) return;
    api.approvals().then(setApprovals, (err: Error) => setProblem(err.message));
  }, [isOwner]);

  useEffect(() => {
    if (me === null || me === 'signed-out') return;
    api.chats().then(setChats, (err: Error) => setProblem(err.message));
    refreshApprovals();
    const timer = setInterval(refreshApprovals, APPROVALS_REFRESH_MS);
    const close = openLiveEvents({
      onEvent: (event) => {
        for (const l of listeners.current) l(event);
        // An approval is asked, or answered (here or on another surface), in a new message.
        if (event.type === 'message') refreshApprovals();
      },
      onState: (state) => {
        setConnection(state);
        if (state === 'live') for (const r of reconnects.current) r();
      },
    });
    return () => {
      clearInterval(timer);
      close();
    };
  }, [me, refreshApprovals]);

  const subscribe = useCallback((listener: LiveListener, onReconnect: () => void) => {
    listeners.current.add(listener);
    reconnects.current.add(onReconnect);
    return () => {
      listeners.current.delete(listener);
      reconnects.current.delete(onReconnect);
    };
  }, []);

  if (me === 'signed-out') return <SignedOut />;
  const ownerChat = chats.find((c) => c.isAdmin)?.chatId ?? 'owner';
  const shownTab = isOwner ? tab : 'chat';
  return (
    <div class="app">
      <header class="top">
        <h1 class="brand">nanocell</h1>
        {isOwner && (
          <nav aria-label="Sections" class="tabs">
            {TABS.map(({ tab: t, label }) => (
              <a
                key={t}
                href={`#/${t}`}
                class="tab"
                aria-current={shownTab === t ? 'page' : undefined}
              >
                {label}
                {t === 'approvals' && approvals.length > 0 && (
                  <span class="count" aria-label={`${approvals.length} pending`}>
                    {approvals.length}
                  </span>
                )}
              </a>
            ))}
          </nav>
        )}
        <ConnectionBadge state={connection} />
      </header>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <main class="view">
        {me === null ? (
          <p class="muted">Loading…</p>
        ) : shownTab === 'chat' ? (
          <ChatView chats={chats} subscribe={subscribe} renderMarkdown={renderMarkdown} />
        ) : shownTab === 'approvals' ? (
          <ApprovalsView
            approvals={approvals}
            ownerChat={ownerChat}
            onAnswered={refreshApprovals}
          />
        ) : shownTab === 'groups' ? (
          <GroupsView />
        ) : shownTab === 'tasks' ? (
          <TasksView />
        ) : shownTab === 'chats' ? (
          <AllChatsView renderMarkdown={renderMarkdown} />
        ) : shownTab === 'files' ? (
          <FilesView />
        ) : shownTab === 'activity' ? (
          <ActivityView />
        ) : shownTab === 'usage' ? (
          <UsageView />
        ) : shownTab === 'egress' ? (
          <EgressView />
        ) : shownTab === 'policy' ? (
          <PolicyView />
        ) : (
          <AuditView />
        )}
      </main>
    </div>
  );
}

function SignedOut() {
  return (
    <main class="signed-out">
      <h1>Sign in to nanocell</h1>
      <p>
        Open the link <code>nanocell start</code> printed (it ends in <code>?token=…</code>). If you
        were signed in before, the host may have restarted: open the link again.
      </p>
    </main>
  );
}
