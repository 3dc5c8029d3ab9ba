/**
 * What the dashboard's activity routes return (tool-call cards, the filtered audit log,
 * egress decisions): shared by the host and the page. No imports, so the browser build can
 * read it too.
 */

export type ToolDecision = 'allow' | 'deny' | 'ask';

/** One tool call of a run, as a card in the chat (SSE `tool`, GET /api/tool-steps). */
export interface ToolStepInfo {
  /** The model's id for the call: the same live and in history. */
  id: string;
  group: string;
  tool: string;
  /** The complete input of the call. */
  input: Record<string, unknown>;
  /** The output, cut to MAX_TOOL_OUTPUT_CHARS (see `outputCut`). */
  output: string;
  outputCut: boolean;
  isError: boolean;
  /** The policy's decision and rule; null when the audit log no longer holds the call. */
  decision: ToolDecision | null;
  rule: string | null;
  durationMs: number | null;
  /** When the call finished (or the turn was stored, for an old call). */
  at: string;
}

export const MAX_TOOL_OUTPUT_CHARS = 4000;

/** GET /api/audit query: every filter optional, validated on the host. */
export interface AuditFilter {
  limit?: number;
  type?: string;
  group?: string;
  tool?: string;
  decision?: string;
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
}

/** GET /api/egress: one decision of the egress proxy. */
export interface EgressDecisionInfo {
  seq: number;
  ts: string;
  group: string | null;
  kind: string | null;
  host: string;
  port: number | null;
  method: string;
  path: string | null;
  decision: 'allowed' | 'denied';
  rule: string | null;
  reason: string | null;
}

/** The audit record types the dashboard filters by (GET /api/audit/search `type`). */
export const AUDIT_TYPES = [
  'tool_call',
  'approval',
  'egress',
  'group_change',
  'task_change',
  'policy_change',
  'startup',
  'shutdown',
] as const;

/** The decisions the dashboard filters by (GET /api/audit/search `decision`). */
export const AUDIT_DECISIONS = [
  'allow',
  'deny',
  'ask',
  'allowed',
  'denied',
  'asked',
  'granted',
  'expired',
] as const;
