import path from 'node:path';
import type { Logger } from 'pino';
import type { CellPool } from '../cells/cell-pool.js';
import type { CellSpec } from '../cells/cell-runtime.js';
import type { Config } from '../config.js';
import { CELL_EGRESS_DIR, type EgressManager } from '../egress/egress-manager.js';
import { egressSetupFor } from '../egress/grant-from-policy.js';
import { ensureGroupFolder, globalFolderPath } from '../groups/group-folder.js';
import { checkGroupMounts } from '../groups/group-mounts.js';
import type { Group } from '../store/groups.js';
import type { Store } from '../store/store.js';
import { GLOBAL_MOUNT_PATH, GROUP_MOUNT_PATH } from '../tools/cell-tools.js';
import { HOST_TOOL_NAMES } from '../tools/host-tools.js';

export interface CellGrantDeps {
  config: Config;
  store: Store;
  log: Logger;
  egress: EgressManager;
  pool: CellPool;
  /** Who owns the egress socket folder on the host (the cell's user may need to reach it). */
  owner: { uid: number; gid: number };
}

/** The group's cell spec, with its egress proxy ready when its policy grants network. */
export function cellGrant(deps: CellGrantDeps) {
  const { config, log, egress, pool } = deps;
  return async (group: Group, taskId?: number): Promise<CellSpec> => {
    const spec = cellSpecFor(config, deps.store, log, group);
    const setup = egressSetupFor({
      policyDir: path.join(config.configDir, 'policy'),
      configDir: config.configDir,
      groupName: group.name,
      taskId,
      hostTools: HOST_TOOL_NAMES,
      budget: { maxRequests: config.budget.egressRequests, maxBytes: 256 * 1024 * 1024 },
    });
    if (!setup.ok) {
      log.error({ group: group.name, errors: setup.errors }, 'egress not granted: policy errors');
    }
    const prepared = await egress.prepare(
      group.name,
      setup.ok ? setup.setup : undefined,
      deps.owner,
    );
    if (prepared?.changed) await pool.stop(group.name);
    if (!prepared) return spec;
    return {
      ...spec,
      mounts: [
        ...spec.mounts,
        { hostPath: prepared.dir, cellPath: CELL_EGRESS_DIR, readOnly: true },
      ],
      env: { ...spec.env, ...prepared.env },
      network: { mode: 'egress-proxy', socketPath: prepared.socketPath },
    };
  };
}

/**
 * The grant of a group's cell: its folder read-write, the global folder (read-only unless
 * admin), and the extra folders the owner granted that the allowlist still allows.
 */
export function cellSpecFor(config: Config, store: Store, log: Logger, group: Group): CellSpec {
  return {
    groupName: group.name,
    mounts: [
      {
        hostPath: ensureGroupFolder(config.home, group.folder, config.assistantName),
        cellPath: GROUP_MOUNT_PATH,
        readOnly: false,
      },
      {
        hostPath: globalFolderPath(config.home),
        cellPath: GLOBAL_MOUNT_PATH,
        readOnly: !group.isAdmin,
      },
      ...extraMounts(config, store, log, group),
    ],
    env: {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/cell',
      LANG: 'C.UTF-8',
      TZ: config.timezone,
      NANOCELL_MAX_FILE_BYTES: String(config.maxFileMb * 1024 * 1024),
    },
    workdir: GROUP_MOUNT_PATH,
    toolServerPath: config.toolServerPath,
    limits: {
      memoryMb: 1024,
      pids: 256,
      cpus: 1,
      callTimeoutMs: config.toolTimeoutMs,
      maxOutputBytes: config.maxOutputBytes,
    },
    network: { mode: 'none' },
    ...config.cellGroupImages[group.name],
  };
}

/** The owner's extra folders the allowlist still allows; each refusal is logged. */
function extraMounts(config: Config, store: Store, log: Logger, group: Group) {
  const extra = checkGroupMounts(config, group, store.groups.mountRequests(group.id));
  if ('error' in extra) {
    log.error({ group: group.name, error: extra.error }, 'extra mounts skipped');
    return [];
  }
  for (const r of extra.refusals) {
    log.warn(
      { group: group.name, hostPath: r.request.hostPath, reason: r.reason },
      'mount refused',
    );
  }
  return extra.mounts;
}
