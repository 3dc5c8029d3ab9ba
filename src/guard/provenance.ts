/**
 * Provenance labels for a run, decided by the host (never by the model).
 * A run starts trusted; once it reads untrusted content the label sticks until the
 * session is cleared. Sources are kept short and bounded for audit records and approvals.
 */

export type ProvenanceSourceKind =
  | 'chat-message' // a message from someone other than the owner in a shared chat
  | 'email' // an email body
  | 'web' // an egress/web response
  | 'mcp' // an MCP tool result
  | 'mount' // a file from a mount the owner marked untrusted
  | 'host-tool'; // a host-tool result carrying outside content

export interface ProvenanceSource {
  kind: ProvenanceSourceKind;
  /** Who or where it came from, e.g. "bob@example.com" or "api.x.com". Bounded. */
  detail: string;
}

export interface ProvenanceLabel {
  untrusted: boolean;
  sources: readonly ProvenanceSource[];
}

export const MAX_SOURCES = 8;
export const MAX_DETAIL_CHARS = 80;

export const TRUSTED: ProvenanceLabel = { untrusted: false, sources: [] };

/** Strips control characters and bounds the length so a source cannot smuggle text. */
export function cleanDetail(detail: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = detail.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS - 1)}…` : flat;
}

/** The label after the run has read `source`; duplicates are folded, the list is bounded. */
export function taint(label: ProvenanceLabel, source: ProvenanceSource): ProvenanceLabel {
  const next: ProvenanceSource = { kind: source.kind, detail: cleanDetail(source.detail) };
  const seen = label.sources.some((s) => s.kind === next.kind && s.detail === next.detail);
  const sources = seen ? label.sources : [...label.sources, next].slice(0, MAX_SOURCES);
  return { untrusted: true, sources };
}

const KIND_WORDS: Record<ProvenanceSourceKind, string> = {
  'chat-message': 'a message from',
  email: 'an email from',
  web: 'a web response from',
  mcp: 'an MCP tool result from',
  mount: 'a file in the untrusted mount',
  'host-tool': 'outside content via',
};

/** "an email from bob@example.com, a web response from api.x.com" */
export function describeSources(label: ProvenanceLabel): string {
  return label.sources.map((s) => `${KIND_WORDS[s.kind]} ${s.detail}`).join(', ');
}

/** Short form for audit records: "email:bob@example.com,web:api.x.com". */
export function auditLabel(label: ProvenanceLabel): string {
  if (!label.untrusted) return 'trusted';
  return `untrusted(${label.sources.map((s) => `${s.kind}:${s.detail}`).join(',')})`;
}
