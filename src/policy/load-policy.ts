import fs from 'node:fs';
import path from 'node:path';
import { GROUP_NAME_PATTERN } from '../store/groups.js';
import { parsePolicy, type ParseOptions } from './policy-file.js';
import type { PolicyLayers, Rule } from './rules.js';

/** A problem in one policy file; line 0 when it concerns the whole file. */
export interface PolicySourceProblem {
  /** The file, relative to the policy dir (e.g. `groups/family.policy`). */
  source: string;
  line: number;
  message: string;
}

export type LoadedPolicy =
  | { ok: true; layers: PolicyLayers; warnings: PolicySourceProblem[] }
  | { ok: false; errors: PolicySourceProblem[] };

export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The files that apply to a group (and one of its tasks), relative to the policy dir. */
export function policySources(
  groupName: string,
  taskId?: string,
): { defaults: string; group: string; task?: string } {
  return {
    defaults: 'default.policy',
    group: path.posix.join('groups', `${groupName}.policy`),
    ...(taskId === undefined ? {} : { task: path.posix.join('tasks', `${taskId}.policy`) }),
  };
}

/**
 * Read and parse the policy files for one call: `default.policy`, `groups/<group>.policy`
 * and, for a task, `tasks/<taskId>.policy`, all under the owner's policy dir. A missing
 * file has no rules. Any error in any of them fails the whole load: a policy that cannot be
 * read must not be half-applied (callers deny the call and point at `nanocell policy check`).
 */
export function loadPolicy(
  policyDir: string,
  target: { groupName: string; taskId?: string },
  options: ParseOptions = {},
): LoadedPolicy {
  const errors: PolicySourceProblem[] = [];
  const warnings: PolicySourceProblem[] = [];
  if (!GROUP_NAME_PATTERN.test(target.groupName)) {
    errors.push({
      source: 'groups/',
      line: 0,
      message: `"${target.groupName}" is not a group name, so no policy file can belong to it`,
    });
  }
  if (target.taskId !== undefined && !TASK_ID_PATTERN.test(target.taskId)) {
    errors.push({
      source: 'tasks/',
      line: 0,
      message: `"${target.taskId}" is not a task id (letters, digits, - and _), so no policy file can belong to it`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };

  const sources = policySources(target.groupName, target.taskId);
  const read = (source: string): Rule[] => {
    const text = readIfPresent(path.join(policyDir, source));
    if (typeof text !== 'string') {
      if (text) errors.push({ source, line: 0, message: text.problem });
      return [];
    }
    const parsed = parsePolicy(text, source, options);
    errors.push(...parsed.errors.map((e) => ({ source, ...e })));
    warnings.push(...parsed.warnings.map((w) => ({ source, ...w })));
    return parsed.rules;
  };
  const layers: PolicyLayers = {
    defaults: read(sources.defaults),
    group: read(sources.group),
    ...(sources.task === undefined ? {} : { task: read(sources.task) }),
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, layers, warnings };
}

function readIfPresent(file: string): string | { problem: string } | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    return { problem: `cannot read ${file}: ${(err as Error).message}` };
  }
}

/**
 * Why `policyDir` must not be used, if it lies inside a folder a cell can mount (a group
 * folder): agents must never read or edit their own policy.
 */
export function policyDirProblem(
  policyDir: string,
  mountableRoots: readonly string[],
): string | undefined {
  const dir = realOrResolved(policyDir);
  for (const root of mountableRoots) {
    const r = realOrResolved(root);
    const rel = path.relative(r, dir);
    const inside = rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    const contains = !path.relative(dir, r).startsWith('..');
    if (inside || contains) {
      return `the policy dir ${dir} overlaps ${r}, which cells can mount; keep policy files outside it (e.g. ~/.config/nanocell/policy)`;
    }
  }
  return undefined;
}

/** Symlinks resolved where the path exists, so a linked policy dir cannot hide inside a grant. */
function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path.resolve(p);
    throw err;
  }
}
