import type { AuditSink } from '../audit/audit-event.js';
import type { OwnerGroupsApi } from '../channels/web/owner-api-groups.js';
import type {
  GroupDetail,
  LiveCellInfo,
  RunChangesInfo,
} from '../channels/web/dashboard-types-groups.js';
import { groupFolderPath } from '../groups/group-folder.js';
import { UnsafeFolderError } from '../fs/safe-dir.js';
import { viewGroupFolder } from './group-files.js';
import type { PoolCellInfo } from '../cells/cell-pool.js';
import type { Config } from '../config.js';
import {
  addGroupMount,
  bindGroupChat,
  createGroup,
  removeGroup,
  removeGroupMount,
  setGroupModel,
  setGroupTrigger,
  unbindGroupChat,
  type GroupChange,
} from '../groups/group-changes.js';
import type { Store } from '../store/store.js';
import { dashboardUsage } from './dashboard-usage.js';
import { createOwnerTask, previewSchedule, runTaskNow, type RunTask } from './dashboard-tasks.js';

export interface DashboardGroupsDeps {
  store: Store;
  config: Config;
  audit: AuditSink;
  /** The cells the pool holds now, and the runtime's name. */
  cells: () => PoolCellInfo[];
  runtime: string;
  /** Memory of a cell's host process tree, or null when unknown. */
  memoryOf: (pid: number) => number | null;
  queue: () => Array<{ groupId: number; running: boolean; waiting: number }>;
  /** Runs a task the way the scheduler does (queued behind the group's other runs). */
  runTask: RunTask;
  /** What the group's last run changed in its folder (src/run/run-changes.ts). */
  lastRun: (groupId: number) => RunChangesInfo['lastRun'] | undefined;
  now?: () => Date;
}

const BY = 'owner (dashboard)';

/**
 * The groups, tasks, activity and usage parts of the owner's dashboard: every change goes
 * through the same function as the CLI's (src/groups/group-changes.ts, task creation as the
 * schedule_task tool does it) and is audited as from the dashboard.
 */
export function dashboardGroups(deps: DashboardGroupsDeps): OwnerGroupsApi {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const detail = (name: string): GroupDetail | undefined => {
    const g = store.groups.byName(name);
    if (!g) return undefined;
    const model = store.models.forGroup(g.id);
    return {
      name: g.name,
      isAdmin: g.isAdmin,
      chats: store.groups.chatsOf(g.id).map((c) => `${c.channel}:${c.chatId}`),
      requiresTrigger: g.requiresTrigger,
      trigger: g.trigger,
      model: model ? `${model.provider} ${model.model}` : null,
      mounts: store.groups.mountRequests(g.id).map((m) => ({
        hostPath: m.hostPath,
        containerPath: m.containerPath ?? null,
        readOnly: m.readOnly,
        untrusted: m.untrusted,
      })),
    };
  };
  const answer = (change: GroupChange, name: string) =>
    change.ok
      ? { ok: true as const, group: detail(name) ?? null, text: change.text.trim() }
      : {
          ok: false as const,
          reason: change.reason,
          ...(change.field ? { field: change.field } : {}),
        };
  return {
    group: detail,
    changeGroup: (name, c) => {
      switch (c.action) {
        case 'create':
          return answer(createGroup(deps, c, BY), c.name);
        case 'remove':
          return answer(removeGroup(deps, name, BY), name);
        case 'bind':
          return answer(bindGroupChat(deps, name, c.chat, BY), name);
        case 'unbind': {
          // Only a chat of this group: the page's button says which group it unbinds from.
          if (!detail(name)?.chats.includes(c.chat)) {
            return {
              ok: false,
              reason: `chat ${c.chat} is not bound to group "${name}"`,
              field: 'chat',
            };
          }
          return answer(unbindGroupChat(deps, c.chat, BY), name);
        }
        case 'trigger':
          return answer(
            setGroupTrigger(
              deps,
              name,
              { requiresTrigger: c.requiresTrigger, word: c.trigger ?? null },
              BY,
            ),
            name,
          );
        case 'model':
          return answer(setGroupModel(deps, name, c.model, c.provider, BY), name);
        case 'mount':
          return answer(
            addGroupMount(
              deps,
              name,
              {
                hostPath: c.hostPath,
                readOnly: c.readOnly,
                ...(c.at ? { containerPath: `/workspace/extra/${c.at}` } : {}),
                ...(c.untrusted ? { untrusted: true } : {}),
              },
              BY,
            ),
            name,
          );
        case 'unmount':
          return answer(removeGroupMount(deps, name, c.hostPath, BY), name);
      }
    },
    previewSchedule: (schedule) => previewSchedule(schedule, deps.config.timezone, now()),
    createTask: (request) => createOwnerTask(deps, request, BY, now()),
    runTaskNow: (id) => runTaskNow(deps, id, BY, now),
    activity: () => {
      // bwrap's host process is the sandbox; a container's processes are under its first one.
      const memoryPid = (c: { pid: number | null; memoryPid: number | null }) =>
        c.memoryPid ?? (deps.runtime === 'bwrap' ? c.pid : null);
      const name = (id: number) => store.groups.byId(id)?.name ?? `#${id}`;
      const cells = deps.cells().map((c): LiveCellInfo => ({
        group: c.group,
        cellId: c.cellId,
        role: c.role,
        state: c.state,
        startedAt: new Date(c.startedAtMs).toISOString(),
        memoryBytes:
          memoryPid(c) !== null && c.state === 'alive' ? deps.memoryOf(memoryPid(c)!) : null,
      }));
      const queue = deps
        .queue()
        .map((q) => ({ group: name(q.groupId), running: q.running, waiting: q.waiting }));
      return {
        runtime: deps.runtime,
        cells,
        queue,
        totals: {
          running: queue.filter((q) => q.running).length,
          waiting: queue.reduce((n, q) => n + q.waiting, 0),
        },
      };
    },
    usage: () => dashboardUsage(store, deps.config.configDir, now()),
    files: (name, rel) => {
      const g = store.groups.byName(name);
      if (!g) return { ok: false, reason: `no group named "${name}"` };
      try {
        return viewGroupFolder(groupFolderPath(deps.config.home, g.folder), rel);
      } catch (err) {
        if (!(err instanceof UnsafeFolderError)) throw err;
        return {
          ok: false,
          reason: `the folder of group ${name} is missing or unsafe: ${err.message}`,
        };
      }
    },
    changes: (name) => {
      const g = store.groups.byName(name);
      if (!g) return { ok: false, reason: `no group named "${name}"` };
      return { ok: true, changes: { lastRun: deps.lastRun(g.id) ?? null } };
    },
  };
}
