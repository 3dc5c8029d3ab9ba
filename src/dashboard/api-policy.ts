import type {
  AlwaysRuleInfo,
  PolicyCheckResult,
  PolicyExplainResult,
  PolicyFileInfo,
  PolicyFileText,
} from '../channels/web/dashboard-types-policy.js';
import { call } from './api.js';

export type * from '../channels/web/dashboard-types-policy.js';

/** The policy routes (src/channels/web/owner-api-policy.ts), typed. */
export const policyApi = {
  files: async () => (await call<{ files: PolicyFileInfo[] }>('GET', '/api/policy/files')).files,
  read: (file: string) =>
    call<PolicyFileText>('GET', `/api/policy/file?file=${encodeURIComponent(file)}`),
  check: (file: string, text: string) =>
    call<PolicyCheckResult>('POST', '/api/policy/check', { file, text }),
  save: (file: string, text: string) =>
    call<PolicyCheckResult>('POST', '/api/policy/save', { file, text }),
  explain: (request: {
    group: string;
    tool: string;
    input: Record<string, unknown>;
    untrusted?: boolean;
  }) => call<PolicyExplainResult>('POST', '/api/policy/explain', request),
  always: (code: string) => call<AlwaysRuleInfo>('POST', '/api/policy/always', { code }),
  alwaysRules: async () =>
    (await call<{ rules: AlwaysRuleInfo[] }>('GET', '/api/policy/always')).rules,
  undoAlways: (r: Pick<AlwaysRuleInfo, 'file' | 'line' | 'rule'>) =>
    call<object>('POST', '/api/policy/always/undo', { file: r.file, line: r.line, rule: r.rule }),
};

/** The input box's text as a tool input, or what is wrong with it (said for the owner). */
export function parseToolInput(
  text: string,
): { ok: true; input: Record<string, unknown> } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      reason: `Input is not JSON (${(err as Error).message}); e.g. {"command": "ls"}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'Input must be a JSON object, e.g. {"path": "notes.md"}' };
  }
  return { ok: true, input: value as Record<string, unknown> };
}
