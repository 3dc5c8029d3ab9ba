import { ruleMatches } from './match-rule.js';
import {
  ADMIN_ONLY_TOOLS,
  HTTP_TOOL,
  MATCHER_KEYS,
  type Decision,
  type Effect,
  type PolicyCall,
  type PolicyLayers,
  type Rule,
  type ToolClass,
} from './rules.js';

const STRICTNESS: Record<Effect, number> = { allow: 0, ask: 1, deny: 2 };
const PRECEDENCE: readonly Effect[] = ['deny', 'ask', 'allow'];

const VERB: Record<Effect, string> = {
  deny: 'denied by',
  ask: "needs the owner's approval under",
  allow: 'allowed by',
};

const CLASS_DEFAULT: Record<ToolClass, { effect: Effect; reason: string }> = {
  cell: { effect: 'allow', reason: 'allowed: cell tools are allowed by default, within the grant' },
  host: {
    effect: 'allow',
    reason: "allowed: host tools are allowed by default for this group's role",
  },
  network: {
    effect: 'deny',
    reason: 'denied: network access is denied unless a policy rule allows it',
  },
};

/**
 * The policy's answer for one call. Pure: the rules are loaded elsewhere.
 *
 * Within a level, any matching deny wins, else any ask, else any allow; order in the file
 * does not matter, so no later line can quietly undo a deny. One exception, for asks only: an
 * exact allow (isExactAllow: this tool, this one command or path) answers a matching ask. default.policy and the group's
 * file form one level, falling back to the default of the tool's class. The task's rules
 * are a second level that can only narrow: the stricter of the two levels decides, so a
 * task's allow never opens what its group keeps shut.
 */
export function decide(call: PolicyCall, layers: PolicyLayers): Decision {
  const adminOnly = call.adminOnly ?? ADMIN_ONLY_TOOLS.includes(call.tool);
  // Not a rule: "only the admin group manages groups" must hold whatever a file says.
  if (adminOnly && !call.isAdmin) {
    return { effect: 'deny', reason: `denied: ${call.tool} is only for the admin group` };
  }
  const groupLevel = firstMatch([...layers.defaults, ...layers.group], call) ?? {
    ...CLASS_DEFAULT[call.toolClass],
  };
  const taskLevel = layers.task && firstMatch(layers.task, call);
  if (taskLevel && STRICTNESS[taskLevel.effect] > STRICTNESS[groupLevel.effect]) return taskLevel;
  return groupLevel;
}

function firstMatch(rules: Rule[], call: PolicyCall): Decision | undefined {
  for (const effect of PRECEDENCE) {
    const rule = rules.find((r) => r.effect === effect && ruleMatches(r, call));
    if (!rule) continue;
    // The owner's standing answer to this ask: an allow naming exactly this call. A deny is
    // never answered this way, and a glob allow never silences an ask.
    const answer = effect === 'ask' && rules.find((r) => isExactAllow(r) && ruleMatches(r, call));
    if (answer) {
      const { source, line, text } = answer;
      return {
        effect: 'allow',
        rule: { source, line, text },
        reason: `allowed by policy rule ${source}:${line}, an exact allow that answers the ask of ${rule.source}:${rule.line}`,
      };
    }
    const { source, line, text } = rule;
    return {
      effect,
      rule: { source, line, text },
      reason: `${VERB[effect]} policy rule ${source}:${line}`,
    };
  }
  return undefined;
}

/**
 * An allow that names one call exactly: a tool with argument matchers (bash, the file tools;
 * not http, whose asks the proxy refuses anyway), every matcher given, none with `*` or `?`,
 * and no `when=`. "Always allow" on an approval writes such a rule.
 */
export function isExactAllow(rule: Rule): boolean {
  if (rule.effect !== 'allow' || rule.when !== undefined || rule.tool === HTTP_TOOL) return false;
  const keys = MATCHER_KEYS[rule.tool] ?? [];
  return (
    keys.length > 0 &&
    keys.every((k) => {
      const value = rule.matchers[k];
      return value !== undefined && value !== '' && !/[*?]/.test(value);
    })
  );
}
