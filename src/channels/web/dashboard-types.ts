/**
 * What the dashboard's JSON API returns: shared by the host (web channel, owner API) and the
 * page (src/dashboard). No imports here, so the browser build can read it too.
 */

/** GET /api/me: who the session or token speaks for. */
export type WebIdentity = { kind: 'owner' } | { kind: 'member'; chatId: string };

/** GET /api/chats: the web chats the credential may open. */
export interface WebChatInfo {
  chatId: string;
  /** The group the chat is bound to; null when it is bound to none (nothing answers there). */
  group: string | null;
  isAdmin: boolean;
}

/** A message of a chat as GET /api/chats/:chat/messages returns it. */
export interface WebMessage {
  id: number;
  direction: 'in' | 'out';
  senderName: string;
  text: string;
  createdAt: string;
}

/** GET /api/approvals: a tool call waiting for the owner's answer. */
export interface PendingApprovalInfo {
  code: string;
  group: string;
  tool: string;
  /** The exact, complete input of the call. */
  input: Record<string, unknown>;
  createdAt: string;
  expiresAt: string;
}

/** GET /api/status (owner only): what the host is doing now. */
export interface HostStatusInfo {
  pid: number;
  /** The cell runtime (bwrap, docker, ...). */
  runtime: string;
  liveCells: number;
  queue: { running: number; waiting: number };
  /** Ids of the groups with a run going. */
  busyGroups: number[];
  outboxPending: number;
}

/** GET /api/groups */
export interface GroupInfo {
  name: string;
  isAdmin: boolean;
  /** `channel:chatId` of each bound chat. */
  chats: string[];
  /** The word a shared chat must use, or null when every message is answered. */
  trigger: string | null;
  /** `provider model` when the group names its own model, else null (the configured one). */
  model: string | null;
}

export type TaskAction = 'pause' | 'resume' | 'cancel';

/** GET /api/tasks */
export interface TaskInfo {
  id: number;
  group: string;
  prompt: string;
  schedule: string;
  status: 'active' | 'paused' | 'cancelled' | 'completed';
  nextRunAt: string | null;
  lastRunAt: string | null;
  /** The latest runs, newest first. */
  runs: TaskRunInfo[];
}

export interface TaskRunInfo {
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'ok' | 'error' | 'skipped';
  /** The run's summary, or why it failed or was skipped. */
  summary: string | null;
}

/** GET /api/audit?limit=N: the newest records, oldest first. */
export interface AuditEntry {
  seq: number;
  ts: string;
  type: string;
  /** The event's other fields. */
  detail: Record<string, unknown>;
}

/** POST /api/audit/verify */
export type AuditVerdict =
  { ok: true; records: number } | { ok: false; records: number; problems: string[] };

/** Every failed call answers `{ error }`, written for the person reading it. */
export interface ApiError {
  error: string;
}
