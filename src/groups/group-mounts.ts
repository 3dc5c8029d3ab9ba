import os from 'node:os';
import { loadMountAllowlist, mountAllowlistPath } from '../cells/mount-allowlist.js';
import { validateMounts, type MountRequest, type MountValidation } from '../cells/mounts.js';
import { PROJECT_ROOT, type Config } from '../config.js';
import type { Group } from '../store/groups.js';

/**
 * A group's extra mounts, checked against the owner's allowlist now (symlinks resolved, so a
 * link changed since the mount was granted is judged by where it points today). The
 * allowlist is read each time: the owner's edits apply to the next cell without a restart.
 */
export function checkGroupMounts(
  config: Config,
  group: Pick<Group, 'isAdmin'>,
  requests: readonly MountRequest[],
): MountValidation | { error: string } {
  if (requests.length === 0) return { mounts: [], refusals: [] };
  const homeDir = os.homedir();
  const loaded = loadMountAllowlist(mountAllowlistPath(config.configDir), { homeDir });
  if (!loaded.ok) {
    return { error: `the mount allowlist has errors:\n  ${loaded.errors.join('\n  ')}` };
  }
  return validateMounts(requests, loaded.allowlist, {
    isAdmin: group.isAdmin,
    homeDir,
    configDir: config.configDir,
    dataDir: config.home,
    projectRoot: PROJECT_ROOT,
  });
}
