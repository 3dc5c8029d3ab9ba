import type { AuditSink } from '../audit/audit-event.js';
import type { Store } from '../store/store.js';
import type { Task, TaskChange } from '../store/tasks.js';

export type TaskStatusAction = 'pause' | 'resume' | 'cancel';

const STATUS = { pause: 'paused', resume: 'active', cancel: 'cancelled' } as const;
const AUDITED = { pause: 'paused', resume: 'resumed', cancel: 'removed' } as const;

/**
 * The owner pauses, resumes or cancels a task (from the CLI or the dashboard): the change
 * and its audit record, in one place. `by` says from where.
 */
export function changeTaskStatus(
  deps: { store: Store; audit: AuditSink },
  id: number,
  action: TaskStatusAction,
  by: string,
): TaskChange {
  const task: Task | undefined = deps.store.tasks.byId(id);
  if (!task) return { ok: false, reason: `no task #${id}` };
  const change = deps.store.tasks.setStatus(id, STATUS[action]);
  if (!change.ok) return change;
  deps.audit.append({
    type: 'task_change',
    group: deps.store.groups.byId(task.groupId)?.name ?? `#${task.groupId}`,
    task: String(id),
    action: AUDITED[action],
    by,
  });
  return change;
}
