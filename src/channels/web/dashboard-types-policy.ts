/**
 * What the dashboard's policy routes return: shared by the host and the page. No imports, so
 * the browser build can read it too.
 */

/** GET /api/policy/files: every policy file that applies or could (a group's, absent). */
export interface PolicyFileInfo {
  /** Relative to the policy dir: `default.policy`, `groups/NAME.policy`, `tasks/ID.policy`. */
  file: string;
  /** What it applies to, for people: `every group`, `group family`, `task 7`. */
  scope: string;
  exists: boolean;
}

/** GET /api/policy/file?file=... */
export interface PolicyFileText {
  file: string;
  text: string;
  exists: boolean;
}

export interface PolicyLineProblem {
  /** 1-based. */
  line: number;
  message: string;
}

/** POST /api/policy/check {file, text}: what `nanocell policy check` would say; nothing saved. */
export interface PolicyCheckResult {
  errors: PolicyLineProblem[];
  warnings: PolicyLineProblem[];
  rules: number;
}

/** POST /api/policy/explain {group, tool, input, task?, untrusted?}: `nanocell policy explain`. */
export interface PolicyExplainResult {
  /** `allow`, `deny` or `ask`; null when the policy could not be read or the call is malformed. */
  decision: 'allow' | 'deny' | 'ask' | null;
  /** What `nanocell policy explain` prints (decision, rule, reason), line by line. */
  lines: string[];
}

/** GET /api/policy/always: a rule "Always allow for this group" wrote, for Undo. */
export interface AlwaysRuleInfo {
  file: string;
  group: string;
  /** The rule's line in the file (its marker comment is the line above). */
  line: number;
  rule: string;
  /** The approval it answered. */
  code: string;
  addedAt: string;
}
