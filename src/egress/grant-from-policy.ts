import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { loadPolicy } from '../policy/load-policy.js';
import { canonicalHost } from '../policy/host-name.js';
import { HTTP_TOOL, knownToolNames, type PolicyLayers, type Rule } from '../policy/rules.js';
import { jsonProblem, schemaProblems } from './credentials-file-errors.js';
import { makePlaceholder } from './credentials.js';
import { brokered, rulesFor } from './egress-decide.js';
import { parseEgressGrant, type EgressGrant } from './egress-grant.js';

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
 * The egress grant of a group's cell, from the owner's files: the `http` and `*` rules of its
 * policy layers, which the proxy judges every request with through decide() — the same
 * answer `nanocell policy explain --tool http` gives (an `ask` is refused there: the proxy
 * cannot wait mid-request). No allow http rule: no grant, and the cell has no way out at all.
 * A credential that could only ever go out in plain HTTP is refused here, with how to fix it.
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
  const egressRules = (rules: Rule[]) =>
    rules.filter((r) => r.tool === HTTP_TOOL || r.tool === '*');
  const { defaults, group, task } = loaded.layers;
  const policy: PolicyLayers = {
    defaults: egressRules(defaults),
    group: egressRules(group),
    ...(task !== undefined ? { task: egressRules(task) } : {}),
  };
  const anyAllow = [...policy.defaults, ...policy.group].some(
    (r) => r.effect === 'allow' && r.tool === HTTP_TOOL,
  );
  if (!anyAllow) return { ok: true, setup: undefined };

  const creds = readCredentials(options.configDir, options.groupName);
  if (!creds.ok) return creds;
  const plain = creds.list.flatMap((c) => plainOnlyProblem(policy, c, creds.file));
  if (plain.length > 0) return { ok: false, errors: plain };
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
    groupName: options.groupName,
    policy,
    credentials,
    budget: options.budget,
  });
  if (!parsed.ok) return { ok: false, errors: [parsed.reason] };
  return { ok: true, setup: { grant: parsed.grant, env } };
}

/**
 * A credential whose host is allowed only by rules the proxy passes through unread (no
 * method or path): it could only go out in plain HTTP, and a secret never does.
 */
function plainOnlyProblem(
  policy: PolicyLayers,
  c: { name: string; host: string },
  file: string,
): string[] {
  const host = canonicalHost(c.host);
  const allows = rulesFor(policy, host).filter((r) => r.effect === 'allow');
  if (allows.length === 0 || allows.some((r) => brokered(r))) return [];
  const where = allows.map((r) => `${r.source}:${r.line}`).join(', ');
  return [
    `${file}: credential "${c.name}" for ${host} would be sent in plain HTTP: the rules allowing ${host} (${where}) have no method or path, so the proxy passes requests through unread. A credential is only sent over HTTPS with a verified certificate: give the rule a method or path, e.g. allow http domain="${host}" method=GET path="/**"`,
  ];
}

function readCredentials(
  configDir: string,
  groupName: string,
):
  | { ok: true; list: z.infer<typeof credentialsSchema>; file: string }
  | { ok: false; errors: string[] } {
  const file = path.join(configDir, 'credentials', `${groupName}.json`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, list: [], file };
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
  return { ok: true, list: parsed.data, file };
}
