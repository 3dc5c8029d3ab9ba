import type http from 'node:http';
import { z } from 'zod';
import type { AuditEntry } from './dashboard-types.js';
import {
  AUDIT_DECISIONS,
  AUDIT_TYPES,
  type EgressDecisionInfo,
  type ToolStepInfo,
} from './dashboard-types-activity.js';
import { json } from './http-io.js';

export const MAX_SEARCH_LIMIT = 500;

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/, 'letters, digits, . _ : - (at most 63)');
const time = z.iso.datetime({ offset: true, error: 'an ISO time like 2026-12-04T10:00:00Z' });
const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_SEARCH_LIMIT, `at most ${MAX_SEARCH_LIMIT}`)
  .default(100);

/** GET /api/audit/search: each filter optional; times compared as UTC ISO strings. */
const auditQuery = z
  .object({
    limit,
    type: z.enum(AUDIT_TYPES).optional(),
    group: name.optional(),
    tool: name.optional(),
    decision: z.enum(AUDIT_DECISIONS).optional(),
    since: time.optional(),
    until: time.optional(),
  })
  .strict();
export type AuditQuery = Partial<z.output<typeof auditQuery>>;

const egressQuery = auditQuery
  .pick({ limit: true, group: true, since: true, until: true })
  .extend({ decision: z.enum(['allowed', 'denied']).optional() })
  .strict();

const toolStepsQuery = z.object({ group: name, limit }).strict();

/**
 * The owner's activity views (tool-call cards, the filtered audit log, egress decisions):
 * narrow read-only callbacks the host hands in (src/owner/dashboard-activity.ts).
 */
export interface OwnerActivityApi {
  toolSteps(
    group: string,
    limit: number,
  ): { ok: true; steps: ToolStepInfo[] } | { ok: false; reason: string };
  /** Matching records among the newest of the log, oldest first. */
  audit(query: AuditQuery): AuditEntry[];
  egress(query: AuditQuery): EgressDecisionInfo[];
}

const PATHS = ['/api/tool-steps', '/api/audit/search', '/api/egress'];

export function isActivityPath(pathname: string): boolean {
  return PATHS.includes(pathname);
}

/** The query string as zod sees it, or what is wrong with it (every problem, with its field). */
function parseQuery<T>(
  url: URL,
  schema: z.ZodType<T>,
): { ok: true; value: T } | { ok: false; error: string } {
  const raw: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (v !== '') raw[k] = v;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
  return { ok: false, error: `bad filter: ${problems.join('; ')}` };
}

/** Answers the paths of isActivityPath; the caller checked the owner's credential. */
export function answerActivityApi(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  api: OwnerActivityApi,
): void {
  if (req.method !== 'GET') return json(res, 405, { error: 'use GET' });
  if (url.pathname === '/api/tool-steps') {
    const q = parseQuery(url, toolStepsQuery);
    if (!q.ok) return json(res, 400, { error: q.error });
    const steps = api.toolSteps(q.value.group, q.value.limit);
    return steps.ok
      ? json(res, 200, { steps: steps.steps })
      : json(res, 404, { error: steps.reason });
  }
  if (url.pathname === '/api/egress') {
    const q = parseQuery(url, egressQuery);
    if (!q.ok) return json(res, 400, { error: q.error });
    return json(res, 200, { decisions: api.egress(q.value) });
  }
  const q = parseQuery(url, auditQuery);
  if (!q.ok) return json(res, 400, { error: q.error });
  return json(res, 200, { records: api.audit(q.value) });
}
