import type { Db } from './database.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied';

export interface Approval {
  id: number;
  /** What the owner types back: `yes CODE` / `no CODE`. */
  code: string;
  /** sha256 of the call it approves (group, tool, exact input). */
  fingerprint: string;
  groupName: string;
  taskId: string | null;
  tool: string;
  input: Record<string, unknown>;
  status: ApprovalStatus;
  createdAt: string;
  expiresAt: string;
  answeredAt: string | null;
  /** When the approved call ran; an approval is used at most once. */
  consumedAt: string | null;
}

export type NewApproval = Pick<
  Approval,
  'code' | 'fingerprint' | 'groupName' | 'taskId' | 'tool' | 'input' | 'createdAt' | 'expiresAt'
>;

interface ApprovalRow {
  id: number;
  code: string;
  fingerprint: string;
  group_name: string;
  task_id: string | null;
  tool: string;
  input: string;
  status: ApprovalStatus;
  created_at: string;
  expires_at: string;
  answered_at: string | null;
  consumed_at: string | null;
}

const toApproval = (r: ApprovalRow): Approval => ({
  id: r.id,
  code: r.code,
  fingerprint: r.fingerprint,
  groupName: r.group_name,
  taskId: r.task_id,
  tool: r.tool,
  input: JSON.parse(r.input) as Record<string, unknown>,
  status: r.status,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  answeredAt: r.answered_at,
  consumedAt: r.consumed_at,
});

/**
 * Approvals, so that an owner's answer survives a restart. Times are ISO strings from
 * Date.toISOString(); every "now" comes from the caller, which owns the clock. The state
 * changes are single statements, so two runs can never consume one approval twice.
 */
export class ApprovalStore {
  constructor(private readonly db: Db) {}

  /** The new approval, or undefined when its code is already taken (pick another). */
  insert(a: NewApproval): Approval | undefined {
    const row = this.db
      .prepare(
        `INSERT INTO approvals
           (code, fingerprint, group_name, task_id, tool, input, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (code) DO NOTHING
         RETURNING *`,
      )
      .all(
        a.code,
        a.fingerprint,
        a.groupName,
        a.taskId,
        a.tool,
        JSON.stringify(a.input),
        a.createdAt,
        a.expiresAt,
      )[0] as ApprovalRow | undefined;
    return row && toApproval(row);
  }

  byCode(code: string): Approval | undefined {
    const row = this.db.prepare('SELECT * FROM approvals WHERE code = ?').get(code) as
      ApprovalRow | undefined;
    return row && toApproval(row);
  }

  /** The newest approval for a call, whatever its state. */
  latestFor(fingerprint: string): Approval | undefined {
    const row = this.db
      .prepare('SELECT * FROM approvals WHERE fingerprint = ? ORDER BY id DESC LIMIT 1')
      .get(fingerprint) as ApprovalRow | undefined;
    return row && toApproval(row);
  }

  /** A question about this call still waiting for the owner, if any. */
  pendingFor(fingerprint: string, now: string): Approval | undefined {
    const row = this.db
      .prepare(
        `SELECT * FROM approvals
         WHERE fingerprint = ? AND status = 'pending' AND expires_at > ?
         ORDER BY id DESC LIMIT 1`,
      )
      .get(fingerprint, now) as ApprovalRow | undefined;
    return row && toApproval(row);
  }

  /** Every question still waiting for the owner, oldest first (the dashboard's inbox). */
  pending(now: string, limit = 200): Approval[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM approvals WHERE status = 'pending' AND expires_at > ?
           ORDER BY id LIMIT ?`,
        )
        .all(now, limit) as ApprovalRow[]
    ).map(toApproval);
  }

  /** Records the owner's answer; undefined unless the approval is pending and unexpired. */
  answer(code: string, status: 'approved' | 'denied', now: string): Approval | undefined {
    const row = this.db
      .prepare(
        `UPDATE approvals SET status = ?, answered_at = ?
         WHERE code = ? AND status = 'pending' AND expires_at > ?
         RETURNING *`,
      )
      .all(status, now, code, now)[0] as ApprovalRow | undefined;
    return row && toApproval(row);
  }

  /** Uses up the oldest live yes for this call; undefined when there is none. */
  consume(fingerprint: string, now: string): Approval | undefined {
    const row = this.db
      .prepare(
        `UPDATE approvals SET consumed_at = ?
         WHERE id = (
           SELECT id FROM approvals
           WHERE fingerprint = ? AND status = 'approved' AND consumed_at IS NULL
             AND expires_at > ?
           ORDER BY id LIMIT 1)
         RETURNING *`,
      )
      .all(now, fingerprint, now)[0] as ApprovalRow | undefined;
    return row && toApproval(row);
  }

  /** Housekeeping: forget approvals that expired before `before`; returns how many. */
  deleteExpired(before: string): number {
    return this.db.prepare('DELETE FROM approvals WHERE expires_at < ?').run(before).changes;
  }
}
