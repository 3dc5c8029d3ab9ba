/**
 * What the audit log records: everything security-relevant, and never a secret or a message's
 * text. Tool inputs appear only as fingerprints (see fingerprint()); free text is a short
 * summary, cut to MAX_TEXT_CHARS.
 */
import { z } from 'zod';

export const MAX_TEXT_CHARS = 200;

/** Cuts text to MAX_TEXT_CHARS, marking the cut, so no long text ever reaches the log. */
export function capText(text: string, maxChars = MAX_TEXT_CHARS): string {
  const chars = Array.from(text);
  return chars.length <= maxChars ? text : `${chars.slice(0, maxChars - 1).join('')}…`;
}

const text = z.string().transform((s) => capText(s));
const digest = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a sha256 digest of 64 hex digits (use fingerprint())');
const count = z.number().int().nonnegative();

// z.object drops keys it does not name: a caller that spreads a whole input or message into
// an event cannot get its text into the log.
const toolCall = z.object({
  type: z.literal('tool_call'),
  group: text,
  task: text.optional(),
  tool: text,
  inputFingerprint: digest,
  /** Optional short description of the input, e.g. the command's first word. No secrets. */
  summary: text.optional(),
  decision: z.enum(['allow', 'deny', 'ask']),
  /** The deciding rule, e.g. `family.rules:12` or `default: cell tools`. */
  rule: text.nullable(),
  /** `not_run`: the call was denied (by a rule or by the owner) and never reached a tool. */
  outcome: z.enum(['ok', 'error', 'not_run']),
  durationMs: count,
  /** The run's provenance label (src/guard): `trusted` or `untrusted(kind:who,...)`. */
  label: text.optional(),
});

const approval = z.object({
  type: z.literal('approval'),
  group: text,
  task: text.optional(),
  tool: text,
  inputFingerprint: digest,
  code: text,
  status: z.enum(['asked', 'granted', 'denied', 'expired']),
  /** Who answered (for granted/denied), e.g. `owner`. */
  by: text.optional(),
});

const egress = z.object({
  type: z.literal('egress'),
  /** The run that made the request, and its scheduled task (none for a message turn). */
  run: text.optional(),
  task: text.optional(),
  group: text.optional(),
  /** `decided`: allowed or refused. `finished`: an allowed request ended; bytes are final. */
  stage: z.enum(['decided', 'finished']).optional(),
  kind: z.enum(['http', 'connect']).optional(),
  host: text,
  port: count.nullable().optional(),
  method: text,
  /** The URL path; null for CONNECT. Its query is cut off: a query may carry a secret. */
  path: z
    .string()
    .transform((p) => capText(p.split('?')[0] ?? ''))
    .nullable(),
  /** The resolved address connected to. */
  address: text.nullable().optional(),
  decision: z.enum(['allowed', 'denied']),
  rule: text.nullable(),
  reason: text.optional(),
  /** Placeholders swapped for their secret: the placeholders' names, never the secrets. */
  credentials: z.array(text).optional(),
  bytesUp: count,
  bytesDown: count,
});

const by = text;

const groupChange = z.object({
  type: z.literal('group_change'),
  group: text,
  action: z.enum(['created', 'updated', 'removed']),
  by,
  summary: text.optional(),
});

const taskChange = z.object({
  type: z.literal('task_change'),
  group: text,
  task: text,
  action: z.enum(['created', 'updated', 'paused', 'resumed', 'removed']),
  by,
  summary: text.optional(),
});

const policyChange = z.object({
  type: z.literal('policy_change'),
  /** Whose policy: `group:NAME` or `task:ID`. */
  scope: text,
  file: text,
  /** `rejected`: the file had errors and the previous policy stays in force. */
  action: z.enum(['loaded', 'changed', 'rejected']),
  /** sha256 of the file's contents, so the exact version in force can be identified. */
  contentFingerprint: digest,
  by: by.optional(),
  summary: text.optional(),
});

const startup = z.object({
  type: z.literal('startup'),
  version: text,
  pid: count,
  runtime: text.optional(),
});

const shutdown = z.object({
  type: z.literal('shutdown'),
  reason: text,
});

export const auditEventSchema = z.discriminatedUnion('type', [
  toolCall,
  approval,
  egress,
  groupChange,
  taskChange,
  policyChange,
  startup,
  shutdown,
]);

/** An event as a caller hands it to AuditSink.append. */
export type AuditEvent = z.input<typeof auditEventSchema>;
export type AuditEventType = AuditEvent['type'];

/** An event as read back from the log: trusted only as far as verify() says. */
export type StoredEvent = { type: string } & Record<string, unknown>;

/**
 * Where security-relevant events go. `append` returns only once the record is written to the
 * log file, so the action it describes may proceed; it throws AuditLogError when it cannot
 * write, and the caller must then not proceed.
 */
export interface AuditSink {
  append(event: AuditEvent): void;
}

export class InvalidAuditEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidAuditEventError';
  }
}

/** The event as it will be stored: checked, unnamed keys dropped, free text capped. */
export function normalizeEvent(event: AuditEvent): StoredEvent {
  const parsed = auditEventSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`)
      .join('; ');
    throw new InvalidAuditEventError(`invalid audit event: ${problems}`, { cause: parsed.error });
  }
  return parsed.data;
}
