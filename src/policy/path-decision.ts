import { resolveCellPath, type PathMount } from '../fs/resolve-cell-path.js';
import { GROUP_MOUNT_PATH } from '../tools/cell-tools.js';
import { decide } from './decide.js';
import { normaliseCellPath } from './match-rule.js';
import {
  MATCHER_KEYS,
  RECURSIVE_FILE_TOOLS,
  type Decision,
  type PolicyCall,
  type PolicyLayers,
} from './rules.js';

const STRICTNESS = { allow: 0, ask: 1, deny: 2 } as const;

/** Whether `tool` is a cell file tool whose `path` rules judge a file in the cell. */
function isFileTool(tool: string): boolean {
  return MATCHER_KEYS[tool]?.includes('path') === true && tool !== 'http';
}

/**
 * `decide()` for a file tool, judged on the path the cell would really reach as well as the
 * one it named: the agent's own link (`/workspace/group/ok -> secret`) meets the rules on
 * `secret`. The stricter of the two decisions wins. A path that cannot be resolved inside its
 * mount (a link out of it, a loop) is denied when any deny or ask rule could be about it.
 */
export function decideOnResolvedPath(
  call: PolicyCall,
  layers: PolicyLayers,
  mounts: readonly PathMount[],
): Decision {
  const literal = decide(call, layers);
  const raw = call.input.path;
  if (!isFileTool(call.tool) || mounts.length === 0) return literal;
  const named =
    typeof raw === 'string' && raw !== ''
      ? raw
      : raw === undefined && RECURSIVE_FILE_TOOLS.includes(call.tool)
        ? GROUP_MOUNT_PATH
        : undefined;
  if (named === undefined) return literal;
  const resolved = resolveCellPath(normaliseCellPath(named), mounts);
  if (!resolved.ok) {
    // An unreadable path: deny and ask rules about paths match it, allow rules don't.
    const unreadable = decide({ ...call, input: { ...call.input, path: null } }, layers);
    if (unreadable.effect === 'allow' && literal.effect === 'allow') return literal;
    return {
      effect: 'deny',
      ...(unreadable.rule ? { rule: unreadable.rule } : {}),
      reason: `${resolved.reason}; path rules are judged on the real path, so it is refused`,
    };
  }
  if (resolved.cellPath === normaliseCellPath(named)) return literal;
  const real = decide({ ...call, input: { ...call.input, path: resolved.cellPath } }, layers);
  if (STRICTNESS[real.effect] <= STRICTNESS[literal.effect]) return literal;
  return { ...real, reason: `${real.reason} (${named} leads to ${resolved.cellPath})` };
}
