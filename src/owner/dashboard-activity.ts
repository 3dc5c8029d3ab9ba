import type { TurnEvent } from '../agent/agent-loop.js';
import { fingerprint } from '../audit/canonical-json.js';
import type { AuditReader } from '../audit/audit-log.js';
import type { AuditEntry } from '../channels/web/dashboard-types.js';
import {
  MAX_TOOL_OUTPUT_CHARS,
  type EgressDecisionInfo,
  type ToolDecision,
  type ToolStepInfo,
} from '../channels/web/dashboard-types-activity.js';
import type { OwnerActivityApi, AuditQuery } from '../channels/web/owner-api-activity.js';
import type { Store } from '../store/store.js';

/** How far back the filtered views look: the newest records of the log. */
const SCANNED_RECORDS = 5000;
/** History entries read for a group's tool cards (a turn is a few entries). */
const HISTORY_ENTRIES = 400;

export interface DashboardActivityDeps {
  store: Store;
  audit: AuditReader;
}

function cutOutput(output: string): { output: string; outputCut: boolean } {
  const chars = Array.from(output);
  if (chars.length <= MAX_TOOL_OUTPUT_CHARS) return { output, outputCut: false };
  return { output: chars.slice(0, MAX_TOOL_OUTPUT_CHARS).join(''), outputCut: true };
}

/** A run's finished tool call as the chat's card (its output bounded). */
export function toolStepOf(
  group: string,
  event: Extract<TurnEvent, { type: 'tool_step' }>,
  at: Date,
): ToolStepInfo {
  return {
    id: event.id,
    group,
    tool: event.name,
    input: event.input,
    ...cutOutput(event.output),
    isError: event.isError,
    decision: event.decision,
    rule: event.rule,
    durationMs: event.durationMs,
    at: at.toISOString(),
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function matches(entry: AuditEntry, q: AuditQuery): boolean {
  const d = entry.detail;
  if (q.type !== undefined && entry.type !== q.type) return false;
  if (q.group !== undefined && d.group !== q.group) return false;
  if (q.tool !== undefined && d.tool !== q.tool) return false;
  if (q.decision !== undefined && d.decision !== q.decision && d.status !== q.decision) {
    return false;
  }
  if (q.since !== undefined && entry.ts < q.since) return false;
  if (q.until !== undefined && entry.ts > q.until) return false;
  return true;
}

/**
 * The activity the owner's dashboard shows: tool-call cards of past runs (the stored
 * conversation for input and output, the audit log for decision, rule and duration), the
 * audit log filtered, and the egress proxy's decisions. Reads only.
 */
export function dashboardActivity(deps: DashboardActivityDeps): OwnerActivityApi {
  const { store, audit } = deps;
  const scan = (): AuditEntry[] =>
    audit.tail(SCANNED_RECORDS).map(({ seq, ts, event }) => {
      const { type, ...detail } = event;
      return { seq, ts, type, detail };
    });
  const search = (q: AuditQuery): AuditEntry[] => scan().filter((e) => matches(e, q));
  return {
    toolSteps: (groupName, limit) => {
      const group = store.groups.byName(groupName);
      if (!group) return { ok: false, reason: `no group "${groupName}"; see the Groups view` };
      // The audit records of this group's calls, oldest first, by tool and input.
      const records = new Map<string, AuditEntry[]>();
      for (const e of search({ type: 'tool_call', group: groupName })) {
        const key = `${String(e.detail.tool)}\n${String(e.detail.inputFingerprint)}`;
        records.set(key, [...(records.get(key) ?? []), e]);
      }
      const entries = store.history.entries(group.id).slice(-HISTORY_ENTRIES);
      const results = new Map<string, { content: string; isError: boolean }>();
      for (const m of entries) {
        for (const b of m.content) {
          if (b.type === 'tool_result') {
            results.set(b.tool_use_id, { content: b.content, isError: b.is_error === true });
          }
        }
      }
      const steps: ToolStepInfo[] = [];
      for (const m of entries) {
        for (const b of m.content) {
          if (b.type !== 'tool_use') continue;
          const queue = records.get(`${b.name}\n${fingerprint(b.input)}`) ?? [];
          const record = queue.shift();
          const result = results.get(b.id);
          steps.push({
            id: b.id,
            group: groupName,
            tool: b.name,
            input: b.input,
            ...cutOutput(result?.content ?? ''),
            isError: result?.isError ?? false,
            decision: (str(record?.detail.decision) as ToolDecision | null) ?? null,
            rule: str(record?.detail.rule),
            durationMs: num(record?.detail.durationMs),
            at: record?.ts ?? m.createdAt,
          });
        }
      }
      return { ok: true, steps: steps.slice(-limit) };
    },
    audit: (q) => search(q).slice(-(q.limit ?? 100)),
    egress: (q) =>
      search({ ...q, type: 'egress' })
        // A `finished` record repeats an allowed request's decision with its final bytes.
        .filter((e) => e.detail.stage !== 'finished')
        .slice(-(q.limit ?? 100))
        .map((e): EgressDecisionInfo => ({
          seq: e.seq,
          ts: e.ts,
          group: str(e.detail.group),
          kind: str(e.detail.kind),
          host: str(e.detail.host) ?? '',
          port: num(e.detail.port),
          method: str(e.detail.method) ?? '',
          path: str(e.detail.path),
          decision: e.detail.decision === 'allowed' ? 'allowed' : 'denied',
          rule: str(e.detail.rule),
          reason: str(e.detail.reason),
        })),
  };
}
