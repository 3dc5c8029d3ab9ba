import type { AuditReader } from '../audit/audit-log.js';
import type { AuditSink } from '../audit/audit-event.js';
import type { OwnerApi } from '../channels/web/owner-api.js';
import type { GroupInfo, TaskInfo, WebChatInfo } from '../channels/web/dashboard-types.js';
import { describeSchedule } from '../scheduler/schedule.js';
import type { Store } from '../store/store.js';
import type { Task } from '../store/tasks.js';
import { changeTaskStatus } from './task-status.js';

const RUNS_SHOWN = 5;

export interface DashboardDataDeps {
  store: Store;
  audit: AuditSink & AuditReader;
  assistantName: string;
  now?: () => Date;
}

/**
 * What the owner's dashboard shows of the host's data, as the web channel's narrow owner
 * API: it maps store rows to the page's types and nothing else decides here (task changes
 * go through the same function as the CLI's).
 */
export function dashboardData(deps: DashboardDataDeps): OwnerApi {
  const { store, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const groupName = (id: number) => store.groups.byId(id)?.name ?? `#${id}`;
  const taskInfo = (t: Task): TaskInfo => ({
    id: t.id,
    group: groupName(t.groupId),
    prompt: t.prompt,
    schedule: describeSchedule(t.schedule),
    status: t.status,
    nextRunAt: t.nextRunAt,
    lastRunAt: t.lastRunAt,
    runs: store.tasks.recentRuns(t.id, RUNS_SHOWN).map((r) => ({
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      status: r.status,
      summary: r.status === 'ok' ? r.summary : (r.error ?? r.summary),
    })),
  });
  return {
    chats: () => {
      const chats: WebChatInfo[] = [];
      for (const g of store.groups.list()) {
        for (const c of store.groups.chatsOf(g.id)) {
          if (c.channel === 'web')
            chats.push({ chatId: c.chatId, group: g.name, isAdmin: g.isAdmin });
        }
      }
      // The owner's own chat first: where approvals are answered.
      return chats.sort((a, b) => Number(b.isAdmin) - Number(a.isAdmin));
    },
    approvals: () =>
      store.approvals.pending(now().toISOString()).map((a) => ({
        code: a.code,
        group: a.groupName,
        tool: a.tool,
        input: a.input,
        createdAt: a.createdAt,
        expiresAt: a.expiresAt,
      })),
    groups: () =>
      store.groups.list().map((g): GroupInfo => {
        const model = store.models.forGroup(g.id);
        return {
          name: g.name,
          isAdmin: g.isAdmin,
          chats: store.groups.chatsOf(g.id).map((c) => `${c.channel}:${c.chatId}`),
          trigger: g.requiresTrigger ? (g.trigger ?? `@${deps.assistantName}`) : null,
          model: model ? `${model.provider} ${model.model}` : null,
        };
      }),
    tasks: () => store.tasks.listAll().map(taskInfo),
    changeTask: (id, action) => {
      const change = changeTaskStatus(deps, id, action, 'owner (dashboard)');
      return change.ok ? { ok: true, task: taskInfo(change.task) } : change;
    },
    audit: (limit) =>
      audit.tail(limit).map(({ seq, ts, event }) => {
        const { type, ...detail } = event;
        return { seq, ts, type, detail };
      }),
    verifyAudit: () => {
      const result = audit.verify();
      if (result.ok) return { ok: true, records: result.records };
      return {
        ok: false,
        records: result.records,
        problems: [
          ...(result.keyProblem ? [result.keyProblem] : []),
          ...result.problems.slice(0, 50).map((p) => `line ${p.line}: ${p.problem}`),
        ],
      };
    },
  };
}
