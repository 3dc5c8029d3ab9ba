import type http from 'node:http';
import type {
  AuditEntry,
  AuditVerdict,
  GroupInfo,
  PendingApprovalInfo,
  TaskAction,
  TaskInfo,
  WebChatInfo,
} from './dashboard-types.js';
import { json } from './http-io.js';

/**
 * What the owner's dashboard reads and changes besides chats: narrow callbacks the host
 * hands in (see src/owner/dashboard-data.ts), never the store itself. Owner-only: the web
 * channel answers these paths for the owner's credential and nobody else.
 */
export interface OwnerApi {
  chats(): WebChatInfo[];
  approvals(): PendingApprovalInfo[];
  groups(): GroupInfo[];
  tasks(): TaskInfo[];
  changeTask(
    id: number,
    action: TaskAction,
  ): { ok: true; task: TaskInfo } | { ok: false; reason: string };
  /** The newest `limit` records, oldest first. */
  audit(limit: number): AuditEntry[];
  verifyAudit(): AuditVerdict;
}

export const MAX_AUDIT_LIMIT = 500;
const TASK_PATH = /^\/api\/tasks\/(\d{1,9})\/(pause|resume|cancel)$/;

/** The paths under /api/ this file answers; the caller checks the credential first. */
export function isOwnerApiPath(pathname: string): boolean {
  return (
    ['/api/approvals', '/api/groups', '/api/tasks', '/api/audit', '/api/audit/verify'].includes(
      pathname,
    ) || TASK_PATH.test(pathname)
  );
}

export function answerOwnerApi(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  api: OwnerApi,
): void {
  const { pathname } = url;
  const method = req.method ?? 'GET';
  const task = TASK_PATH.exec(pathname);
  if (task) {
    if (method !== 'POST') return json(res, 405, { error: 'use POST' });
    const changed = api.changeTask(Number(task[1]), task[2] as TaskAction);
    return changed.ok ? json(res, 200, changed.task) : json(res, 409, { error: changed.reason });
  }
  if (pathname === '/api/audit/verify') {
    if (method !== 'POST') return json(res, 405, { error: 'use POST' });
    return json(res, 200, api.verifyAudit());
  }
  if (method !== 'GET') return json(res, 405, { error: 'use GET' });
  if (pathname === '/api/approvals') return json(res, 200, { approvals: api.approvals() });
  if (pathname === '/api/groups') return json(res, 200, { groups: api.groups() });
  if (pathname === '/api/tasks') return json(res, 200, { tasks: api.tasks() });
  const limit = Number(url.searchParams.get('limit') ?? '50');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
    return json(res, 400, { error: `limit: a whole number from 1 to ${MAX_AUDIT_LIMIT}` });
  }
  return json(res, 200, { records: api.audit(limit) });
}
