import fs from 'node:fs';
import path from 'node:path';
import { GROUP_NAME_PATTERN } from '../store/groups.js';
import { loadPolicy, policySources, TASK_ID_PATTERN, type LoadedPolicy } from './load-policy.js';

/** More targets than this (groups × tasks) and the cache starts again rather than grow. */
const MAX_TARGETS = 4096;

/**
 * The policy that applies to a group (or a task), read and parsed once and kept until one of
 * its files changes (issue 17: a tool call no longer re-reads and re-parses every file). Each
 * call still stats the files, so an edit counts from the very next call, as it always did.
 */
export class PolicyCache {
  private readonly loaded = new Map<string, { stamp: string; policy: LoadedPolicy }>();

  constructor(private readonly policyDir: string) {}

  /** The policy for `target`; `fresh` when it was (re)read now, i.e. a file changed. */
  load(
    target: { groupName: string; taskId?: string },
    knownTools: readonly string[],
  ): { policy: LoadedPolicy; fresh: boolean } {
    const valid =
      GROUP_NAME_PATTERN.test(target.groupName) &&
      (target.taskId === undefined || TASK_ID_PATTERN.test(target.taskId));
    // A bad name is refused by the loader with its message; nothing to cache.
    if (!valid) {
      return { policy: loadPolicy(this.policyDir, target, { knownTools }), fresh: true };
    }
    const sources = policySources(target.groupName, target.taskId);
    const stamp = [
      knownTools.join(','),
      ...[sources.defaults, sources.group, sources.task].map((s) =>
        s === undefined ? '' : fileStamp(path.join(this.policyDir, s)),
      ),
    ].join('|');
    const key = `${target.groupName}\0${target.taskId ?? ''}`;
    const hit = this.loaded.get(key);
    if (hit?.stamp === stamp) return { policy: hit.policy, fresh: false };
    const policy = loadPolicy(this.policyDir, target, { knownTools });
    if (this.loaded.size >= MAX_TARGETS) this.loaded.clear();
    this.loaded.set(key, { stamp, policy });
    return { policy, fresh: true };
  }
}

/** What changes when a file is written, replaced or removed. */
function fileStamp(file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : 'none';
}
