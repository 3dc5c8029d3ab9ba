import type { WebMessage } from './api.js';
import type { ToolStepInfo } from '../channels/web/dashboard-types-activity.js';
import type { LiveAction, LiveEvent, LiveFile } from './live-events.js';

/** A reply as the event stream shows it: streamed (edited in place) until the history has it. */
export interface LiveMessage {
  id: string;
  text: string;
  actions: LiveAction[];
  attachments: LiveFile[];
  /** The `tick` of the last event that changed it. */
  tick: number;
  /** The newest stored message when it began: a reply stored after that one replaces it. */
  afterHistoryId: number;
}

/**
 * One chat as the page shows it: the stored history (by its numeric id) and the replies
 * still streaming (by the channel's id). Each message is kept once, by its id, whatever
 * order polls and events arrive in. Pure: every function returns a new timeline.
 */
export interface Timeline {
  history: ReadonlyMap<number, WebMessage>;
  live: ReadonlyMap<string, LiveMessage>;
  /** Buttons and files of delivered replies, by history id (the history has only text). */
  extras: ReadonlyMap<number, Pick<LiveMessage, 'actions' | 'attachments'>>;
  /** Tool-call cards of the chat's group, by call id (live and from history alike). */
  tools: ReadonlyMap<string, ToolStepInfo>;
  /** Counts events, so a poll can tell which live messages it has caught up with. */
  tick: number;
}

export const emptyTimeline = (): Timeline => ({
  history: new Map(),
  live: new Map(),
  extras: new Map(),
  tools: new Map(),
  tick: 0,
});

/** Tool calls, live or from history: each kept once by its id, the newest copy wins. */
export function addToolSteps(t: Timeline, steps: readonly ToolStepInfo[]): Timeline {
  if (steps.length === 0) return t;
  const tools = new Map(t.tools);
  for (const s of steps) tools.set(s.id, s);
  return { ...t, tools };
}

export function lastHistoryId(t: Timeline): number {
  let last = 0;
  for (const id of t.history.keys()) last = Math.max(last, id);
  return last;
}

/** A message or edit from the event stream (of this chat); typing changes nothing here. */
export function applyLive(t: Timeline, event: LiveEvent): Timeline {
  if (event.type === 'typing') return t;
  if (event.type === 'tool') {
    const { type: _type, ...step } = event;
    return addToolSteps(t, [step]);
  }
  const tick = t.tick + 1;
  const live = new Map(t.live);
  const known = live.get(event.id);
  live.set(event.id, {
    id: event.id,
    text: event.text,
    actions: event.type === 'message' ? (event.actions ?? []) : (known?.actions ?? []),
    attachments: event.type === 'message' ? (event.attachments ?? []) : (known?.attachments ?? []),
    tick,
    afterHistoryId: known?.afterHistoryId ?? lastHistoryId(t),
  });
  return { ...t, live, tick };
}

/**
 * Messages from a poll that started at `tickAtStart`. A live message last changed before the
 * poll started is dropped once the history holds a reply stored after it began: that reply
 * is what it streamed (its buttons and files move to the reply with the same text). A live
 * message changed since stays until a later poll, which may bring nothing new.
 */
export function mergeHistory(t: Timeline, messages: WebMessage[], tickAtStart: number): Timeline {
  const history = new Map(t.history);
  for (const m of messages) history.set(m.id, m);
  const replies = [...history.values()].filter((m) => m.direction === 'out');
  const live = new Map(t.live);
  const extras = new Map(t.extras);
  for (const [id, message] of t.live) {
    if (message.tick > tickAtStart) continue;
    const after = replies.filter((m) => m.id > message.afterHistoryId);
    if (after.length === 0) continue;
    live.delete(id);
    if (message.actions.length === 0 && message.attachments.length === 0) continue;
    const reply = after.find((m) => m.text === message.text && !extras.has(m.id));
    if (reply) extras.set(reply.id, { actions: message.actions, attachments: message.attachments });
  }
  return { ...t, history, live, extras };
}

export interface ShownMessage {
  key: string;
  direction: 'in' | 'out';
  senderName: string;
  text: string;
  createdAt: string | null;
  streaming: boolean;
  actions: LiveAction[];
  attachments: LiveFile[];
}

/** History in id order, then the replies still streaming in the order they began. */
export function shownMessages(t: Timeline): ShownMessage[] {
  const stored = [...t.history.values()]
    .sort((a, b) => a.id - b.id)
    .map((m) => ({
      key: `h${m.id}`,
      direction: m.direction,
      senderName: m.senderName,
      text: m.text,
      createdAt: m.createdAt,
      streaming: false,
      actions: t.extras.get(m.id)?.actions ?? [],
      attachments: t.extras.get(m.id)?.attachments ?? [],
    }));
  const streaming = [...t.live.values()].map((m) => ({
    key: `l${m.id}`,
    direction: 'out' as const,
    senderName: '',
    text: m.text,
    createdAt: null,
    streaming: true,
    actions: m.actions,
    attachments: m.attachments,
  }));
  return [...stored, ...streaming];
}

export type ShownItem =
  | { kind: 'message'; key: string; message: ShownMessage }
  | { kind: 'tool'; key: string; step: ToolStepInfo };

/**
 * Stored messages and tool calls in time order (a call sorts after the message stored at the
 * same moment only if it finished later), then the replies still streaming.
 */
export function shownItems(t: Timeline): ShownItem[] {
  const messages = shownMessages(t);
  const stored = messages.filter((m) => !m.streaming);
  const streaming = messages.filter((m) => m.streaming);
  const tools = [...t.tools.values()].sort((a, b) => a.at.localeCompare(b.at));
  const items: ShownItem[] = [];
  let ti = 0;
  for (const m of stored) {
    while (ti < tools.length && m.createdAt !== null && tools[ti]!.at < m.createdAt) {
      const step = tools[ti++]!;
      items.push({ kind: 'tool', key: `t${step.id}`, step });
    }
    items.push({ kind: 'message', key: m.key, message: m });
  }
  for (; ti < tools.length; ti++) {
    const step = tools[ti]!;
    items.push({ kind: 'tool', key: `t${step.id}`, step });
  }
  for (const m of streaming) items.push({ kind: 'message', key: m.key, message: m });
  return items;
}
