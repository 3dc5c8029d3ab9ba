import type http from 'node:http';
import { z } from 'zod';
import type {
  ActivityInfo,
  GroupChangeRequest,
  GroupDetail,
  GroupFolderView,
  NewTaskRequest,
  RunChangesInfo,
  SchedulePreview,
  UsageInfo,
} from './dashboard-types-groups.js';
import { json, readBody } from './http-io.js';

type Refusal = { ok: false; reason: string; field?: string };

/**
 * What the dashboard's group management, task creation, activity and usage pages need from
 * the host: narrow callbacks (see src/owner/dashboard-groups.ts). Owner-only, like OwnerApi.
 */
export interface OwnerGroupsApi {
  group(name: string): GroupDetail | undefined;
  /** `name` is the group the change is for ('' for create). */
  changeGroup(
    name: string,
    change: GroupChangeRequest,
  ): { ok: true; group: GroupDetail | null; text: string } | Refusal;
  previewSchedule(schedule: unknown): SchedulePreview;
  createTask(request: NewTaskRequest): { ok: true; id: number } | Refusal;
  runTaskNow(id: number): { ok: true } | Refusal;
  activity(): ActivityInfo;
  usage(): UsageInfo;
  /** A folder's entries or a file's text inside the group's folder (read-only). */
  files(group: string, path: string): { ok: true; view: GroupFolderView } | Refusal;
  changes(group: string): { ok: true; changes: RunChangesInfo } | Refusal;
}

const NAME = z.string().trim().min(1).max(64);
const CHAT = z.string().trim().min(3).max(200);
const HOST_PATH = z.string().trim().min(1).max(4096);
const CHANGE = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('create'),
    name: NAME,
    chat: CHAT.optional(),
    trigger: z.string().trim().max(64).optional(),
    noTrigger: z.boolean().optional(),
  }),
  z.object({ action: z.literal('remove') }),
  z.object({ action: z.literal('bind'), chat: CHAT }),
  z.object({ action: z.literal('unbind'), chat: CHAT }),
  z.object({
    action: z.literal('trigger'),
    requiresTrigger: z.boolean(),
    trigger: z.string().max(64).nullable().optional(),
  }),
  z.object({
    action: z.literal('model'),
    model: z.string().trim().min(1).max(200),
    provider: z.string().trim().min(1).max(40).optional(),
  }),
  z.object({
    action: z.literal('mount'),
    hostPath: HOST_PATH,
    readOnly: z.boolean(),
    at: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'at: a folder name of letters, digits, ., _ or -')
      .optional(),
    untrusted: z.boolean().optional(),
  }),
  z.object({ action: z.literal('unmount'), hostPath: HOST_PATH }),
]);
const SCHEDULE = z.record(z.string(), z.unknown());
const NEW_TASK = z.object({
  group: NAME,
  prompt: z.string().max(8000),
  schedule: SCHEDULE,
});

const GROUP_PATH = /^\/api\/groups\/([^/]{1,200})$/;
const GROUP_READ = /^\/api\/groups\/([^/]{1,200})\/(files|changes)$/;
const RUN_PATH = /^\/api\/tasks\/(\d{1,9})\/run$/;
const FIXED = ['/api/tasks/preview', '/api/activity', '/api/usage'];

/** Paths this file answers (POST /api/groups and /api/tasks too); the caller checks the credential. */
export function isGroupsApiPath(pathname: string, method: string): boolean {
  if ((pathname === '/api/groups' || pathname === '/api/tasks') && method === 'POST') return true;
  return (
    FIXED.includes(pathname) ||
    GROUP_PATH.test(pathname) ||
    GROUP_READ.test(pathname) ||
    RUN_PATH.test(pathname)
  );
}

/** A zod problem as one sentence naming the field. */
function problemOf(error: z.ZodError): { error: string; field?: string } {
  const issue = error.issues[0]!;
  const field = issue.path.join('.');
  return {
    error: field ? `${field}: ${issue.message}` : issue.message,
    ...(field ? { field } : {}),
  };
}

async function bodyOf(
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const body = await readBody(req);
  if (!body.ok) {
    json(res, body.status, { error: body.error });
    return { ok: false };
  }
  try {
    return { ok: true, value: JSON.parse(body.text) };
  } catch {
    json(res, 400, { error: 'body must be JSON, e.g. {"action": "bind", "chat": "telegram:42"}' });
    return { ok: false };
  }
}

function decodeName(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null; // Broken percent-encoding.
  }
}

const refused = (res: http.ServerResponse, r: Refusal) =>
  json(res, 409, { error: r.reason, ...(r.field ? { field: r.field } : {}) });

export async function answerGroupsApi(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  api: OwnerGroupsApi,
): Promise<void> {
  const { pathname } = url;
  const method = req.method ?? 'GET';
  const readOnly = pathname === '/api/activity' || pathname === '/api/usage';
  if (readOnly) {
    if (method !== 'GET') return json(res, 405, { error: 'use GET' });
    return json(res, 200, pathname === '/api/usage' ? api.usage() : api.activity());
  }
  const read = GROUP_READ.exec(pathname);
  if (read) {
    if (method !== 'GET') return json(res, 405, { error: 'use GET' });
    const groupName = decodeName(read[1]!);
    if (groupName === null) return json(res, 400, { error: 'group name: broken percent-encoding' });
    if (read[2] === 'changes') {
      const changes = api.changes(groupName);
      return changes.ok
        ? json(res, 200, changes.changes)
        : json(res, 404, { error: changes.reason });
    }
    const rel = url.searchParams.get('path') ?? '';
    if (rel.length > 4096) return json(res, 400, { error: 'path: at most 4096 characters' });
    const shown = api.files(groupName, rel);
    return shown.ok ? json(res, 200, shown.view) : json(res, 404, { error: shown.reason });
  }
  const group = GROUP_PATH.exec(pathname);
  let name = '';
  if (group) {
    try {
      name = decodeURIComponent(group[1]!);
    } catch {
      return json(res, 400, { error: 'group name: broken percent-encoding in the address' });
    }
    if (method === 'GET') {
      const detail = api.group(name);
      return detail
        ? json(res, 200, detail)
        : json(res, 404, { error: `no group named "${name}"; the Groups page lists them` });
    }
  }
  if (method !== 'POST') return json(res, 405, { error: 'use POST' });
  const run = RUN_PATH.exec(pathname);
  if (run) {
    const done = api.runTaskNow(Number(run[1]));
    return done.ok ? json(res, 202, { started: true }) : refused(res, done);
  }
  const body = await bodyOf(req, res);
  if (!body.ok) return;
  if (pathname === '/api/tasks/preview') {
    const parsed = z.object({ schedule: z.unknown() }).safeParse(body.value);
    if (!parsed.success) return json(res, 400, problemOf(parsed.error));
    return json(res, 200, api.previewSchedule(parsed.data.schedule));
  }
  if (pathname === '/api/tasks') {
    const parsed = NEW_TASK.safeParse(body.value);
    if (!parsed.success) return json(res, 400, problemOf(parsed.error));
    const created = api.createTask(parsed.data);
    return created.ok ? json(res, 201, { id: created.id }) : refused(res, created);
  }
  const parsed = CHANGE.safeParse(body.value);
  if (!parsed.success) return json(res, 400, problemOf(parsed.error));
  if ((parsed.data.action === 'create') !== (pathname === '/api/groups')) {
    return json(res, 400, {
      error: 'create a group with POST /api/groups; change one with POST /api/groups/NAME',
    });
  }
  const change = api.changeGroup(name, parsed.data as GroupChangeRequest);
  return change.ok
    ? json(res, 200, { group: change.group, text: change.text })
    : refused(res, change);
}
