import { CELL_TOOL_NAMES } from '../cells/tool-protocol.js';
import { ADMIN_ONLY_TOOL_NAMES } from '../tools/host-tool-specs.js';

/** What a rule, or the policy as a whole, says about one tool call. */
export type Effect = 'allow' | 'deny' | 'ask';
export const EFFECTS: readonly Effect[] = ['allow', 'deny', 'ask'];

/**
 * cell: runs inside the group's cell; host: runs on the host (send_message, ...);
 * network: leaves the machine through the egress proxy (the pseudo-tool `http`).
 */
export type ToolClass = 'cell' | 'host' | 'network';

/** The pseudo-tool the egress proxy asks about: input `{ domain, method?, path?, port? }`. */
export const HTTP_TOOL = 'http';

/**
 * Host tools only the owner's admin group may use; no policy rule can open them to others.
 * Each tool's spec says so itself (src/tools/host-tool-specs.ts).
 */
export const ADMIN_ONLY_TOOLS: readonly string[] = ADMIN_ONLY_TOOL_NAMES;

export type MatcherKey = 'command' | 'path' | 'domain' | 'method' | 'port';

/** The argument matchers each tool takes; tools not listed take none. */
export const MATCHER_KEYS: Readonly<Record<string, readonly MatcherKey[]>> = {
  bash: ['command'],
  read_file: ['path'],
  write_file: ['path'],
  edit_file: ['path'],
  list_files: ['path'],
  grep: ['path'],
  [HTTP_TOOL]: ['domain', 'method', 'path', 'port'],
};

/** File tools that walk a whole tree: a rule on a path inside the tree also covers them. */
export const RECURSIVE_FILE_TOOLS: readonly string[] = ['list_files', 'grep'];

/** Where a rule came from, for explanations and the audit log. */
export interface RuleOrigin {
  /** The policy file (its path), or the name given to the parser. */
  source: string;
  /** 1-based line in that file. */
  line: number;
  /** The rule as written, without its comment. */
  text: string;
}

export interface Rule extends RuleOrigin {
  effect: Effect;
  /** A tool name, or `*` for every tool (egress included). */
  tool: string;
  /** Raw matcher values as written; the tool decides how each is matched. */
  matchers: Partial<Record<MatcherKey, string>>;
  /**
   * `when=untrusted`: the rule applies only to a run whose session read someone else's words
   * (src/guard); `when=trusted` only to one that did not. Absent: to every run.
   */
  when?: 'untrusted' | 'trusted';
}

/** One tool call (or one egress request, as tool `http`) to decide on. */
export interface PolicyCall {
  groupName: string;
  isAdmin: boolean;
  tool: string;
  toolClass: ToolClass;
  input: Record<string, unknown>;
  /** Overrides ADMIN_ONLY_TOOLS for this call (for host tools registered elsewhere). */
  adminOnly?: boolean;
  /** The run's provenance label says untrusted (for `when=` rules); absent: trusted. */
  untrusted?: boolean;
}

/**
 * The rules that apply to one call. `defaults` (default.policy) and `group` are one level:
 * their rules are pooled. `task` is a second level that can only make the outcome stricter.
 */
export interface PolicyLayers {
  defaults: Rule[];
  group: Rule[];
  task?: Rule[];
}

export interface Decision {
  effect: Effect;
  /** The deciding rule; absent when a built-in default decided. */
  rule?: RuleOrigin;
  /** One sentence for logs, the audit log and the agent's tool error. */
  reason: string;
}

/** Which class a tool belongs to; undefined for a name nanocell does not know. */
export function toolClassOf(tool: string, hostTools: readonly string[]): ToolClass | undefined {
  if ((CELL_TOOL_NAMES as readonly string[]).includes(tool)) return 'cell';
  if (tool === HTTP_TOOL) return 'network';
  if (hostTools.includes(tool)) return 'host';
  return undefined;
}

/** Every tool name a policy file may mention, given the host tools the assistant has. */
export function knownToolNames(hostTools: readonly string[]): string[] {
  return [...CELL_TOOL_NAMES, HTTP_TOOL, ...hostTools];
}
