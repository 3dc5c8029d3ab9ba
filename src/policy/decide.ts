import { ruleMatches } from './match-rule.js';
import {
  ADMIN_ONLY_TOOLS,
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
 * does not matter, so no later line can quietly undo a deny. default.policy and the group's
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
    if (rule) {
      const { source, line, text } = rule;
      return {
        effect,
        rule: { source, line, text },
        reason: `${VERB[effect]} policy rule ${source}:${line}`,
      };
    }
  }
  return undefined;
}
