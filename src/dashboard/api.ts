import type {
  AuditEntry,
  AuditVerdict,
  GroupInfo,
  HostStatusInfo,
  PendingApprovalInfo,
  TaskAction,
  TaskInfo,
  WebChatInfo,
  WebIdentity,
  WebMessage,
} from '../channels/web/dashboard-types.js';

export type * from '../channels/web/dashboard-types.js';

/** A call the host refused or could not answer; `message` is written for the owner. */
export class ApiCallError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** The host answers `{ error }` on failure; anything else is said plainly. */
export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiCallError('the host did not answer: is nanocell still running?', 0);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiCallError(
      `the host answered ${res.status} with something that is not JSON`,
      res.status,
    );
  }
  if (!res.ok) {
    const error = (parsed as { error?: unknown }).error;
    throw new ApiCallError(
      typeof error === 'string' ? error : `the host answered ${res.status}`,
      res.status,
    );
  }
  return parsed as T;
}

const chatPath = (chatId: string) => `/api/chats/${encodeURIComponent(chatId)}`;

/** The host's JSON API (src/channels/web/web-channel.ts, owner-api.ts), typed. */
export const api = {
  me: () => call<WebIdentity>('GET', '/api/me'),
  chats: async () => (await call<{ chats: WebChatInfo[] }>('GET', '/api/chats')).chats,
  messages: async (chatId: string, afterId: number) =>
    (await call<{ messages: WebMessage[] }>('GET', `${chatPath(chatId)}/messages?after=${afterId}`))
      .messages,
  send: (chatId: string, text: string) =>
    call<{ stored: boolean; id?: number }>('POST', `${chatPath(chatId)}/messages`, { text }),
  click: (chatId: string, actionId: string) =>
    call<{ stored: boolean }>('POST', `${chatPath(chatId)}/actions`, { actionId }),
  approvals: async () =>
    (await call<{ approvals: PendingApprovalInfo[] }>('GET', '/api/approvals')).approvals,
  status: () => call<HostStatusInfo>('GET', '/api/status'),
  groups: async () => (await call<{ groups: GroupInfo[] }>('GET', '/api/groups')).groups,
  tasks: async () => (await call<{ tasks: TaskInfo[] }>('GET', '/api/tasks')).tasks,
  changeTask: (id: number, action: TaskAction) =>
    call<TaskInfo>('POST', `/api/tasks/${id}/${action}`),
  audit: async (limit: number) =>
    (await call<{ records: AuditEntry[] }>('GET', `/api/audit?limit=${limit}`)).records,
  verifyAudit: () => call<AuditVerdict>('POST', '/api/audit/verify'),
};
