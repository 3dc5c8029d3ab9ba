/**
 * What one task's cell may reach through the egress proxy: data only, built on the host from
 * the owner's policy. Nothing here is ever visible to the cell except the placeholders.
 */
import { z } from 'zod';
import { canonicalHost } from '../policy/host-name.js';
import { HTTP_TOOL, type PolicyLayers, type Rule } from '../policy/rules.js';

export interface EgressCredential {
  /** What the cell holds instead of the secret (see makePlaceholder). */
  placeholder: string;
  secret: string;
  /** The one host the secret may be sent to (exact match), and only over verified TLS. */
  host: string;
  /** When set, the secret is put only into this header; the placeholder anywhere else is refused. */
  header?: string;
}

/** The most one run may use (a run's own limits can only be tighter). */
export interface EgressBudget {
  maxRequests: number;
  /** Bytes in both directions, headers included. */
  maxBytes: number;
}

export interface EgressGrant {
  groupName: string;
  /**
   * The owner's `http` and `*` rules for this group (and task): the proxy judges every
   * request with decide() over them, exactly as `nanocell policy explain` does.
   */
  policy: PolicyLayers;
  credentials: EgressCredential[];
  budget: EgressBudget;
}

/** One egress decision, for the audit log. Never carries a secret. */
export interface EgressDecision {
  /** The run the request was made in (null when none was going on), and its task if any. */
  runId: string | null;
  taskId: string | null;
  groupName: string;
  allowed: boolean;
  /**
   * `decided`: the request was allowed or refused. `finished`: an allowed request ended;
   * bytes are final and reason says how it ended.
   */
  stage: 'decided' | 'finished';
  kind: 'http' | 'connect';
  host: string;
  port: number | null;
  method: string;
  /** Path of a plain-HTTP request; null for CONNECT (the tunnel's content is not visible). */
  path: string | null;
  /** The checked address connected to, once resolved. */
  address: string | null;
  /** The rule that allowed the request, as `source:line text`. */
  rule: string | null;
  reason: string;
  /** Placeholders swapped for their secret (their credential's placeholder, not the secret). */
  credentials: string[];
  bytesUp: number;
  bytesDown: number;
  /**
   * What the host's own request was for, when an egress pass let it past the guard (null for
   * the cell's): the host labels what it reads of the answer itself (src/mcp: a tool's result).
   */
  pass: string | null;
}

const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV6_RE = /^[0-9a-f:.]+$/;

const host = z
  .string()
  .transform(canonicalHost)
  .refine((s) => HOST_RE.test(s) || (s.includes(':') && IPV6_RE.test(s)), {
    message: 'must be a host name such as api.example.com (no scheme, port or path)',
  });

// Rules come parsed and checked from the policy files; only egress rules belong here.
const policyRules = z.array(
  z.custom<Rule>(
    (r) =>
      typeof r === 'object' &&
      r !== null &&
      ((r as Rule).tool === HTTP_TOOL || (r as Rule).tool === '*') &&
      typeof (r as Rule).source === 'string',
    { message: 'must be an http or * rule parsed from a policy file' },
  ),
);

const credential = z.object({
  // Letters, digits, - and _: they pass through URLs and headers unescaped, so the proxy
  // finds them where the cell put them.
  placeholder: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{20,200}$/,
      'must be 20-200 letters, digits, - or _ (use makePlaceholder)',
    ),
  // No control characters: the secret goes into a header line.
  secret: z
    .string()
    .min(1, 'is empty')
    .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII without line breaks'),
  host,
  header: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a header name such as Authorization')
    .transform((h) => h.toLowerCase())
    .optional(),
});

const grantSchema = z
  .object({
    groupName: z.string().min(1, 'is empty'),
    policy: z.object({ defaults: policyRules, group: policyRules, task: policyRules.optional() }),
    credentials: z.array(credential),
    budget: z.object({
      maxRequests: z.number().int().min(0),
      maxBytes: z.number().int().min(0),
    }),
  })
  .superRefine((g, ctx) => {
    g.credentials.forEach((c, i) => {
      g.credentials.forEach((other, j) => {
        if (i !== j && other.placeholder.includes(c.placeholder)) {
          ctx.addIssue({
            code: 'custom',
            path: ['credentials', j, 'placeholder'],
            message: `contains the placeholder of credentials.${i}: every placeholder must be distinct`,
          });
        }
      });
    });
  });

export type GrantParse = { ok: true; grant: EgressGrant } | { ok: false; reason: string };

/** Checks a grant built from policy; the reason lists every problem with its path. */
export function parseEgressGrant(data: unknown): GrantParse {
  const parsed = grantSchema.safeParse(data);
  if (parsed.success) return { ok: true, grant: parsed.data };
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'grant'}: ${i.message}`);
  return { ok: false, reason: `invalid egress grant: ${problems.join('; ')}` };
}

export class InvalidGrantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidGrantError';
  }
}
