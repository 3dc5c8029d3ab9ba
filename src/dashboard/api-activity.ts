import type { AuditEntry } from '../channels/web/dashboard-types.js';
import type {
  AuditFilter,
  EgressDecisionInfo,
  ToolStepInfo,
} from '../channels/web/dashboard-types-activity.js';
import { call } from './api.js';

export type * from '../channels/web/dashboard-types-activity.js';

/** `?a=1&b=2` of the filters that are set (empty ones are left out, not sent blank). */
export function queryOf(filter: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) {
    if (v !== undefined && String(v).trim() !== '') params.set(k, String(v).trim());
  }
  const q = params.toString();
  return q === '' ? '' : `?${q}`;
}

/** The activity routes (src/channels/web/owner-api-activity.ts), typed. */
export const activityApi = {
  toolSteps: async (group: string) =>
    (await call<{ steps: ToolStepInfo[] }>('GET', `/api/tool-steps${queryOf({ group })}`)).steps,
  auditSearch: async (filter: AuditFilter) =>
    (await call<{ records: AuditEntry[] }>('GET', `/api/audit/search${queryOf({ ...filter })}`))
      .records,
  egress: async (filter: Pick<AuditFilter, 'group' | 'decision' | 'limit'>) =>
    (await call<{ decisions: EgressDecisionInfo[] }>('GET', `/api/egress${queryOf(filter)}`))
      .decisions,
};
