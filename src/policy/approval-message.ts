import type { Approval } from '../store/approvals.js';
import { APPROVAL_CODE_LENGTH } from './approvals.js';

export interface ApprovalReply {
  /** Upper-cased, as stored. */
  code: string;
  answer: 'yes' | 'no';
}

const REPLY = new RegExp(`^\\s*(yes|no)\\s+([a-z0-9]{${APPROVAL_CODE_LENGTH}})\\s*$`, 'i');

/** `yes CODE` / `no CODE` (any case, surrounding spaces), or null for any other message. */
export function parseApprovalReply(text: string): ApprovalReply | null {
  const m = REPLY.exec(text);
  if (!m || !m[1] || !m[2]) return null;
  return { answer: m[1].toLowerCase() === 'yes' ? 'yes' : 'no', code: m[2].toUpperCase() };
}

/**
 * The owner's buttons for an approval request. Each id is the reply it stands for, so a
 * click is judged exactly like typing `yes CODE`, and a channel without buttons shows the
 * reply to type instead.
 */
export function approvalActions(code: string): Array<{ id: string; label: string }> {
  return [
    { id: `yes ${code}`, label: 'Approve' },
    { id: `no ${code}`, label: 'Deny' },
  ];
}

export const DEFAULT_MAX_INPUT_CHARS = 2000;

// Characters that reorder or hide text on screen: the owner must see the input as it is.
const INVISIBLE = /[\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/g;

/**
 * The message to the owner: who asks, for which tool, the exact input (pretty JSON with
 * invisible characters escaped, cut at `maxInputChars` with a note), the code and how to
 * answer.
 */
export function formatApprovalRequest(
  approval: Approval,
  options: { maxInputChars?: number; why?: string } = {},
): string {
  const max = options.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS;
  const json = JSON.stringify(approval.input, null, 2).replace(
    INVISIBLE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  let shown = json;
  if (json.length > max) {
    // Never end on half of a surrogate pair.
    const cut = /[\uD800-\uDBFF]/.test(json[max - 1] ?? '') ? max - 1 : max;
    shown = `${json.slice(0, cut)}\n… (${json.length - cut} more characters not shown; if unsure, answer no)`;
  }
  const minutes = Math.round(
    (Date.parse(approval.expiresAt) - Date.parse(approval.createdAt)) / 60_000,
  );
  const task = approval.taskId === null ? '' : ` (task ${approval.taskId})`;
  return [
    `Approval needed: group "${approval.groupName}"${task} wants to use ${approval.tool}.`,
    ...(options.why ? [`Why you are asked: ${options.why}.`] : []),
    'Input:',
    shown,
    `Reply "yes ${approval.code}" to allow this one call, or "no ${approval.code}" to refuse it.`,
    `Without an answer within ${minutes} minute${minutes === 1 ? '' : 's'}, it is refused.`,
  ].join('\n');
}
