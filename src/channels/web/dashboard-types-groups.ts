/**
 * What the dashboard's group, task, activity and usage routes (owner-api-groups.ts) take and
 * return: shared by the host and the page. No imports here, so the browser build can read it.
 */

/** GET /api/groups/:name: one group in full. */
export interface GroupDetail {
  name: string;
  isAdmin: boolean;
  chats: string[];
  /** Whether a shared chat must use the trigger word to be answered. */
  requiresTrigger: boolean;
  /** The word itself (null: `@` + the assistant's name). */
  trigger: string | null;
  /** `provider model`, or null for the configured default. */
  model: string | null;
  mounts: GroupMountInfo[];
}

export interface GroupMountInfo {
  hostPath: string;
  /** Where the cell sees it, when the owner named it (else under /workspace/extra). */
  containerPath: string | null;
  readOnly: boolean;
  untrusted: boolean;
}

/** The bodies of POST /api/groups and POST /api/groups/:name/(...). */
export type GroupChangeRequest =
  | { action: 'create'; name: string; chat?: string; trigger?: string; noTrigger?: boolean }
  | { action: 'remove' }
  | { action: 'bind'; chat: string }
  | { action: 'unbind'; chat: string }
  | { action: 'trigger'; requiresTrigger: boolean; trigger?: string | null }
  | { action: 'model'; model: string; provider?: string }
  | { action: 'mount'; hostPath: string; readOnly: boolean; at?: string; untrusted?: boolean }
  | { action: 'unmount'; hostPath: string };

/** A refused change: the reason, and the field it is about (shown beside that field). */
export interface GroupChangeError {
  error: string;
  field?: string;
}

/** POST /api/tasks/preview {schedule}: is it valid, and when would it run. */
export type SchedulePreview =
  | { ok: true; description: string; timezone: string; nextRuns: string[] }
  | { ok: false; error: string };

/** POST /api/tasks {group, prompt, schedule} */
export interface NewTaskRequest {
  group: string;
  prompt: string;
  /** A schedule as the schedule_task tool takes it (kind cron | interval | once). */
  schedule: Record<string, unknown>;
}

/** GET /api/activity: what the host is doing right now. */
export interface ActivityInfo {
  runtime: string;
  cells: LiveCellInfo[];
  /** Groups with a run going or waiting. */
  queue: Array<{ group: string; running: boolean; waiting: number }>;
  totals: { running: number; waiting: number };
}

export interface LiveCellInfo {
  group: string;
  cellId: string | null;
  /** A spare waits for the group's next run. */
  role: 'run' | 'spare';
  state: 'starting' | 'alive' | 'dead';
  startedAt: string;
  /** Resident memory (PSS) of the cell's processes, or null when it cannot be measured here. */
  memoryBytes: number | null;
}

/** GET /api/usage: the numbers `nanocell usage` prints, per group and period. */
export interface UsageInfo {
  /** False when the price file is broken: costs are left out (`problem` says why). */
  withCost: boolean;
  problem: string | null;
  groups: GroupUsage[];
}

export interface GroupUsage {
  group: string;
  today: UsageNumbers;
  week: UsageNumbers;
  month: UsageNumbers;
  /** The group's daily budget (UTC days); null fields: no limit. */
  budget: { tokens: number | null; usd: number | null };
}

export interface UsageNumbers {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  usd: number;
}

/** GET /api/groups/:name/files?path=REL: a folder's entries, or a file's text (read-only). */
export type GroupFolderView =
  | {
      kind: 'dir';
      /** Inside the group folder; '' is the folder itself. */
      path: string;
      entries: Array<{
        name: string;
        kind: 'dir' | 'file' | 'link' | 'other';
        size: number | null;
      }>;
      truncated: boolean;
    }
  | {
      kind: 'file';
      path: string;
      size: number;
      /** The text, or null for a binary file (`note` says so). */
      text: string | null;
      truncated: boolean;
      note: string | null;
    };

/** GET /api/groups/:name/changes: what the group's last run changed in its folder. */
export interface RunChangesInfo {
  /** Null when no run of the group has finished since the host started. */
  lastRun: {
    startedAt: string;
    finishedAt: string;
    truncated: boolean;
    changes: Array<{
      path: string;
      change: 'added' | 'removed' | 'modified';
      diff: string | null;
      note: string | null;
      sizeBefore: number | null;
      sizeAfter: number | null;
    }>;
  } | null;
}
