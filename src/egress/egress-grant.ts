/**
 * What one task's cell may reach through the egress proxy: data only, built on the host from
 * the owner's policy. Nothing here is ever visible to the cell except the placeholders.
 */
import { z } from 'zod';

export interface EgressRule {
  /** Exact host (`api.example.com`, or a literal IP) or `*.suffix`, which matches subdomains only. */
  domain: string;
  /** Default: 443 for CONNECT and upgraded requests, 80 for plain HTTP. */
  ports?: number[];
  /** Plain HTTP (and upgraded) only. A rule with methods or paths refuses CONNECT. */
  methods?: string[];
  /** Globs over the URL path (no query): `*` within one segment, `**` across segments. */
  paths?: string[];
  /**
   * The cell speaks plain `http://host[:port]/...`; the proxy goes out over HTTPS to that
   * port (443 when none is given). How a brokered API keeps method/path rules and credential
   * injection while the traffic still leaves encrypted.
   */
  upgradeTls?: boolean;
}

export interface EgressCredential {
  /** What the cell holds instead of the secret (see makePlaceholder). */
  placeholder: string;
  secret: string;
  /** The one host the secret may be sent to (exact match). */
  host: string;
  /** When set, the secret is put only into this header; the placeholder anywhere else is refused. */
  header?: string;
}

export interface EgressBudget {
  maxRequests: number;
  /** Bytes in both directions, headers included. */
  maxBytes: number;
}

export interface EgressGrant {
  taskId: string;
  groupName: string;
  rules: EgressRule[];
  credentials: EgressCredential[];
  budget: EgressBudget;
}

/** One egress decision, for the audit log. Never carries a secret. */
export interface EgressDecision {
  taskId: string;
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
  /** The rule that allowed the request, e.g. `#0 api.example.com`. */
  rule: string | null;
  reason: string;
  /** Placeholders swapped for their secret (their credential's placeholder, not the secret). */
  credentials: string[];
  bytesUp: number;
  bytesDown: number;
}

const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV6_RE = /^[0-9a-f:.]+$/;

const host = z
  .string()
  .transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .refine((s) => HOST_RE.test(s) || (s.includes(':') && IPV6_RE.test(s)), {
    message: 'must be a host name such as api.example.com (no scheme, port or path)',
  });

const domain = z
  .string()
  .transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .refine(
    (s) =>
      HOST_RE.test(s.startsWith('*.') ? s.slice(2) : s) || (s.includes(':') && IPV6_RE.test(s)),
    {
      message: 'must be an exact host (api.example.com) or *.suffix (*.example.com)',
    },
  );

const port = z.number().int().min(1).max(65535);

const rule = z.object({
  domain,
  ports: z.array(port).min(1, 'must list at least one port, or be left out').optional(),
  methods: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z]+$/, 'must be an HTTP method such as GET')
        .transform((m) => m.toUpperCase()),
    )
    .min(1, 'must list at least one method, or be left out')
    .optional(),
  paths: z
    .array(z.string().startsWith('/', 'must start with / (a URL path glob such as /v1/**)'))
    .min(1, 'must list at least one path, or be left out')
    .optional(),
  upgradeTls: z.boolean().optional(),
});

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
    taskId: z.string().min(1, 'is empty'),
    groupName: z.string().min(1, 'is empty'),
    rules: z.array(rule),
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
