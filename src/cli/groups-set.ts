import type { Base } from '../app.js';
import { setGroupModel } from '../groups/group-changes.js';
import type { TextOut } from './command.js';
import { parseBudgetArgs, setBudget } from './groups-budget.js';
import type { GroupsArgs } from './groups.js';

/** Reports a problem: exit 2 (bad usage, with the usage text) unless `code` says otherwise. */
type Problem = (problem: string, code?: number) => number;

/**
 * `groups set NAME`: its model (`--model`, `--provider`) and its daily budget
 * (`--budget-tokens`, `--budget-usd`), one or both in one command.
 */
export function groupsSet(
  base: Base,
  name: string | undefined,
  args: GroupsArgs,
  out: TextOut,
  usage: Problem,
): number {
  const budget = parseBudgetArgs(args);
  if (!budget.ok) return usage(budget.problem);
  const hasBudget = Object.keys(budget.change).length > 0;
  if (!hasBudget || args.model) {
    const code = setModel(base, name, args, out, usage);
    if (code !== 0 || !hasBudget) return code;
  }
  const group = name ? base.store.groups.byName(name) : undefined;
  if (!group) return usage(name ? `no group named "${name}"` : 'groups set needs a NAME', 1);
  out.write(setBudget(base, group, budget.change));
  return 0;
}

/** `groups set NAME --model M [--provider P]`: the group's runs use that model from now on. */
function setModel(
  base: Base,
  name: string | undefined,
  args: GroupsArgs,
  out: TextOut,
  usage: Problem,
): number {
  if (!name || !args.model) return usage('groups set needs a group NAME and --model MODEL');
  const change = setGroupModel(base, name, args.model, args.provider, 'owner (cli)');
  if (!change.ok) return usage(change.reason, 1);
  out.write(change.text);
  return 0;
}
