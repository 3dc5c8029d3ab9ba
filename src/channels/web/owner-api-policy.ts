import type http from 'node:http';
import { z } from 'zod';
import type {
  AlwaysRuleInfo,
  PolicyCheckResult,
  PolicyExplainResult,
  PolicyFileInfo,
  PolicyFileText,
} from './dashboard-types-policy.js';
import { json, readBody } from './http-io.js';

/** Policy files are small; a bigger one is a mistake (the loader refuses it too). */
export const MAX_POLICY_TEXT_BYTES = 256 * 1024;

/** Only the files the loader reads: never a path of the owner's choosing beyond these. */
export const POLICY_FILE =
  /^(default\.policy|groups\/[a-z0-9][a-z0-9_-]{0,62}\.policy|tasks\/[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.policy)$/;

const file = z.string().regex(POLICY_FILE, 'default.policy, groups/NAME.policy or tasks/ID.policy');
const text = z.string().refine((t) => Buffer.byteLength(t) <= MAX_POLICY_TEXT_BYTES, {
  message: `at most ${MAX_POLICY_TEXT_BYTES} bytes`,
});
const fileText = z.object({ file, text }).strict();
const explainBody = z
  .object({
    group: z.string().min(1).max(63),
    tool: z.string().min(1).max(100),
    input: z.record(z.string(), z.unknown()),
    task: z.string().max(64).optional(),
    untrusted: z.boolean().optional(),
  })
  .strict();
export type ExplainRequest = z.output<typeof explainBody>;
const alwaysBody = z
  .object({ code: z.string().regex(/^[A-Z0-9]{1,12}$/, 'an approval code') })
  .strict();
const undoBody = z
  .object({ file, line: z.number().int().min(2).max(100_000), rule: z.string().max(2000) })
  .strict();

/**
 * The owner's policy files from the dashboard: narrow callbacks the host hands in
 * (src/owner/dashboard-policy.ts). Checks and explanations are the `nanocell policy` ones.
 */
export interface OwnerPolicyApi {
  files(): PolicyFileInfo[];
  read(file: string): { ok: true; file: PolicyFileText } | { ok: false; reason: string };
  check(file: string, text: string): PolicyCheckResult;
  /** Refused while the text has errors; audited as a policy change when saved. */
  save(
    file: string,
    text: string,
  ):
    | { ok: true; check: PolicyCheckResult }
    | { ok: false; reason: string; check?: PolicyCheckResult };
  explain(request: ExplainRequest): PolicyExplainResult;
  /** Writes the exact allow answering pending approval `code` into its group's file. */
  always(code: string): { ok: true; rule: AlwaysRuleInfo } | { ok: false; reason: string };
  alwaysRules(): AlwaysRuleInfo[];
  /** Removes exactly that rule (and its marker), if it is still there as listed. */
  undoAlways(
    file: string,
    line: number,
    rule: string,
  ): { ok: true } | { ok: false; reason: string };
}

const PATHS = [
  '/api/policy/files',
  '/api/policy/file',
  '/api/policy/check',
  '/api/policy/save',
  '/api/policy/explain',
  '/api/policy/always',
  '/api/policy/always/undo',
];

export function isPolicyPath(pathname: string): boolean {
  return PATHS.includes(pathname);
}

function problemsOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

async function bodyOf<T>(
  req: http.IncomingMessage,
  schema: z.ZodType<T>,
  example: string,
): Promise<{ ok: true; value: T } | { ok: false; status: number; error: string }> {
  const body = await readBody(req, MAX_POLICY_TEXT_BYTES + 4096);
  if (!body.ok) return body;
  let raw: unknown;
  try {
    raw = JSON.parse(body.text);
  } catch {
    return { ok: false, status: 400, error: `body must be JSON like ${example}` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, status: 400, error: problemsOf(parsed.error) };
  return { ok: true, value: parsed.data };
}

/** Answers the paths of isPolicyPath; the caller checked the owner's credential and Origin. */
export async function answerPolicyApi(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  api: OwnerPolicyApi,
): Promise<void> {
  const method = req.method ?? 'GET';
  const { pathname } = url;
  if (pathname === '/api/policy/files' || pathname === '/api/policy/file') {
    if (method !== 'GET') return json(res, 405, { error: 'use GET' });
    if (pathname === '/api/policy/files') return json(res, 200, { files: api.files() });
    const name = file.safeParse(url.searchParams.get('file') ?? '');
    if (!name.success) return json(res, 400, { error: `file: ${problemsOf(name.error)}` });
    const read = api.read(name.data);
    return read.ok ? json(res, 200, read.file) : json(res, 409, { error: read.reason });
  }
  if (pathname === '/api/policy/always' && method === 'GET') {
    return json(res, 200, { rules: api.alwaysRules() });
  }
  if (method !== 'POST') return json(res, 405, { error: 'use POST' });
  if (pathname === '/api/policy/always') {
    const body = await bodyOf(req, alwaysBody, '{"code": "K3F9QX"}');
    if (!body.ok) return json(res, body.status, { error: body.error });
    const added = api.always(body.value.code);
    return added.ok ? json(res, 200, added.rule) : json(res, 409, { error: added.reason });
  }
  if (pathname === '/api/policy/always/undo') {
    const body = await bodyOf(
      req,
      undoBody,
      '{"file": "groups/family.policy", "line": 3, "rule": "allow ..."}',
    );
    if (!body.ok) return json(res, body.status, { error: body.error });
    const undone = api.undoAlways(body.value.file, body.value.line, body.value.rule);
    return undone.ok ? json(res, 200, {}) : json(res, 409, { error: undone.reason });
  }
  if (pathname === '/api/policy/explain') {
    const body = await bodyOf(
      req,
      explainBody,
      '{"group": "family", "tool": "bash", "input": {"command": "ls"}}',
    );
    if (!body.ok) return json(res, body.status, { error: body.error });
    return json(res, 200, api.explain(body.value));
  }
  const body = await bodyOf(req, fileText, '{"file": "groups/family.policy", "text": "..."}');
  if (!body.ok) return json(res, body.status, { error: body.error });
  if (pathname === '/api/policy/check') {
    return json(res, 200, api.check(body.value.file, body.value.text));
  }
  const saved = api.save(body.value.file, body.value.text);
  if (saved.ok) return json(res, 200, saved.check);
  return json(res, 409, { error: saved.reason, ...(saved.check ? { check: saved.check } : {}) });
}
