import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { loadPolicy } from '../policy/load-policy.js';
import { HTTP_TOOL, knownToolNames, type Rule } from '../policy/rules.js';
import { jsonProblem, schemaProblems } from './credentials-file-errors.js';
import { makePlaceholder } from './credentials.js';
import { parseEgressGrant, type EgressGrant, type EgressRule } from './egress-grant.js';

/**
 * `<configDir>/credentials/<group>.json`: the secrets a group's cell may use without seeing.
 *   [{ "name": "mail", "host": "api.mail.example", "header": "authorization",
 *      "secret": "Bearer ..." }]
 * The cell gets `NANOCELL_CRED_<NAME>` holding a placeholder; the proxy swaps it for the
 * secret only on requests to `host`.
 */
const credentialsSchema = z.array(
  z.object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'a name of letters, digits and _'),
    host: z.string().min(1),
    header: z.string().min(1).optional(),
    secret: z.string().min(1),
  }),
);

export interface EgressSetup {
  grant: EgressGrant;
  /** Placeholders to put into the cell's environment. */
  env: Record<string, string>;
}

export type EgressSetupResult =
  { ok: true; setup: EgressSetup | undefined } | { ok: false; errors: string[] };

/**
 * The egress grant of a group's cell, from the owner's files: every `allow http` rule of the
 * group's policy becomes a proxy rule unless a `deny` or `ask` http rule covers its domain
 * (the proxy cannot wait for an approval mid-request, so `ask` denies there). Rules with a
 * method or path are brokered: the cell calls http://host/..., the proxy checks method and
 * path and goes out over HTTPS. No allow rule: no grant, and the cell has no way out at all.
 */
export function egressSetupFor(options: {
  policyDir: string;
  configDir: string;
  groupName: string;
  /** A task run: its own policy file can only narrow the group's egress. */
  taskId?: number | undefined;
  hostTools: readonly string[];
  budget: { maxRequests: number; maxBytes: number };
}): EgressSetupResult {
  const loaded = loadPolicy(
    options.policyDir,
    {
      groupName: options.groupName,
      ...(options.taskId !== undefined ? { taskId: String(options.taskId) } : {}),
    },
    { knownTools: knownToolNames(options.hostTools) },
  );
  if (!loaded.ok) {
    return { ok: false, errors: loaded.errors.map((e) => `${e.source}:${e.line}: ${e.message}`) };
  }
  const rules = [...loaded.layers.defaults, ...loaded.layers.group].filter(
    (r) => r.tool === HTTP_TOOL || r.tool === '*',
  );
  const blocking = rules.filter((r) => r.effect !== 'allow');
  const taskRules = (loaded.layers.task ?? []).filter(
    (r) => r.tool === HTTP_TOOL || r.tool === '*',
  );
  const taskBlocking = taskRules.filter((r) => r.effect !== 'allow');
  const taskAllows = taskRules.filter((r) => r.effect === 'allow' && r.tool === HTTP_TOOL);
  const allowed = rules
    .filter((r) => r.effect === 'allow' && r.tool === HTTP_TOOL && r.matchers.domain)
    .filter((r) => !blocking.some((b) => covers(b, r.matchers.domain!)))
    // A task narrows: its deny/ask rules remove domains; if it has allow rules, only the
    // group's domains it also allows remain. It can never add one.
    .filter((r) => !taskBlocking.some((b) => covers(b, r.matchers.domain!)))
    .filter((r) => taskAllows.length === 0 || taskAllows.some((a) => covers(a, r.matchers.domain!)))
    .map(toEgressRule);
  if (allowed.length === 0) return { ok: true, setup: undefined };

  const creds = readCredentials(options.configDir, options.groupName);
  if (!creds.ok) return creds;
  const env: Record<string, string> = {};
  const credentials = creds.list.map((c) => {
    const placeholder = makePlaceholder(c.name);
    env[`NANOCELL_CRED_${c.name.toUpperCase()}`] = placeholder;
    return {
      placeholder,
      secret: c.secret,
      host: c.host,
      ...(c.header ? { header: c.header } : {}),
    };
  });
  const parsed = parseEgressGrant({
    taskId: options.taskId !== undefined ? `task-${options.taskId}` : `group-${options.groupName}`,
    groupName: options.groupName,
    rules: allowed,
    credentials,
    budget: options.budget,
  });
  if (!parsed.ok) return { ok: false, errors: [parsed.reason] };
  return { ok: true, setup: { grant: parsed.grant, env } };
}

function covers(rule: Rule, domain: string): boolean {
  const d = rule.matchers.domain;
  if (rule.tool === '*' || d === undefined || d === '*') return true;
  if (d === domain) return true;
  if (d.startsWith('*.')) return domain === d || domain.endsWith(d.slice(1));
  return false;
}

function toEgressRule(rule: Rule): EgressRule {
  const { domain, method, path: urlPath, port } = rule.matchers;
  const brokered = method !== undefined || urlPath !== undefined;
  return {
    domain: domain!,
    ...(port !== undefined ? { ports: [Number(port)] } : {}),
    ...(method !== undefined ? { methods: [method.toUpperCase()] } : {}),
    ...(urlPath !== undefined ? { paths: [urlPath] } : {}),
    ...(brokered ? { upgradeTls: true } : {}),
  };
}

function readCredentials(
  configDir: string,
  groupName: string,
): { ok: true; list: z.infer<typeof credentialsSchema> } | { ok: false; errors: string[] } {
  const file = path.join(configDir, 'credentials', `${groupName}.json`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, list: [] };
    return { ok: false, errors: [`cannot read ${file}: ${(err as Error).message}`] };
  }
  // Errors say where, never what: the file holds secrets (see credentials-file-errors.ts).
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, errors: [`${file}: ${jsonProblem(text) ?? 'not valid JSON'}`] };
  }
  const parsed = credentialsSchema.safeParse(data);
  if (!parsed.success) {
    return { ok: false, errors: schemaProblems(parsed.error.issues).map((p) => `${file}: ${p}`) };
  }
  return { ok: true, list: parsed.data };
}
