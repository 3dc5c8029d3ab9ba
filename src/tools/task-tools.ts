import type { RunContext } from '../run/run.js';
import { describeSchedule, parseSchedule } from '../scheduler/schedule.js';
import type { Store } from '../store/store.js';
import type { Task, TaskChange } from '../store/tasks.js';
import { hostToolSpecs } from './host-tool-specs.js';
import { fail, hostTool, ok, targetGroup, type HostTool } from './host-tools.js';

/** Caps that keep a steered model from flooding the scheduler (config: NANOCELL_MAX_TASKS_*). */
export interface TaskLimits {
  /** Active or paused tasks one group may have; the admin group's own tasks count too. */
  perGroup: number;
  /** Tasks one run may create, whichever groups they are for. */
  perRun: number;
}

export interface TaskToolDeps {
  store: Store;
  timezone: string;
  limits: TaskLimits;
  now?: () => Date;
  /** Told about every change, for the audit log. */
  onChange?: (change: { action: string; task: Task; by: string }) => void;
}

export function describeTask(t: Task, groupName: string): string {
  return `#${t.id} [${groupName}] ${t.status} ${describeSchedule(t.schedule)} next ${t.nextRunAt ?? '-'} (${t.contextMode}): ${t.prompt.slice(0, 120)}`;
}

/**
 * schedule_task, list_tasks, pause_task, resume_task, cancel_task, update_task. A group acts
 * only on its own tasks; the admin group on any. The group comes from the run, never the input.
 */
export function taskTools(deps: TaskToolDeps): HostTool[] {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const groupName = (id: number) => store.groups.byId(id)?.name ?? `#${id}`;
  // Tasks scheduled per run. A run hands the same RunContext to every tool call it makes, so
  // the context object is the run's identity; entries go when the run's context does.
  const createdInRun = new WeakMap<RunContext, number>();

  /** The task, if the calling group may act on it. */
  const ownTask = (ctx: RunContext, id: unknown) => {
    const task = typeof id === 'number' ? store.tasks.byId(id) : undefined;
    if (!task || (!ctx.group.isAdmin && task.groupId !== ctx.group.id)) {
      // The same answer whether it is missing or another group's: no probing of ids.
      return {
        ok: false as const,
        outcome: fail(`No task #${String(id)} in group "${ctx.group.name}".`),
      };
    }
    return { ok: true as const, task };
  };
  const changed = (ctx: RunContext, action: string, change: TaskChange) => {
    if (!change.ok) return fail(change.reason);
    deps.onChange?.({ action, task: change.task, by: ctx.group.name });
    return ok(`${action}: ${describeTask(change.task, groupName(change.task.groupId))}`);
  };
  /** pause_task, resume_task, cancel_task: one status change of one of the caller's tasks. */
  const statusTool = (
    name: 'pause_task' | 'resume_task' | 'cancel_task',
    status: 'active' | 'paused' | 'cancelled',
    done: string,
  ): HostTool =>
    hostTool(hostToolSpecs[name], (ctx, input) => {
      const t = ownTask(ctx, input.task_id);
      return t.ok ? changed(ctx, done, store.tasks.setStatus(t.task.id, status, now())) : t.outcome;
    });
  return [
    hostTool(hostToolSpecs.schedule_task, (ctx, input) => {
      const target = targetGroup(store, ctx, input.group);
      if (!target.ok) return target.outcome;
      const parsed = parseSchedule(input.schedule, {
        now: now(),
        defaultTimezone: deps.timezone,
      });
      if (!parsed.ok) return fail(`Invalid schedule: ${parsed.error}`);
      const inRun = createdInRun.get(ctx) ?? 0;
      if (inRun >= deps.limits.perRun) {
        return fail(
          `Not scheduled: this run has already scheduled ${inRun} tasks, the most one run may (NANOCELL_MAX_TASKS_PER_RUN=${deps.limits.perRun}). Tell the user which tasks were not scheduled.`,
        );
      }
      const created = store.tasks.createWithinCap(
        {
          groupId: target.group.id,
          prompt: input.prompt,
          schedule: parsed.schedule,
          contextMode: input.context_mode ?? 'group',
        },
        deps.limits.perGroup,
        now(),
      );
      if (!created.ok)
        return fail(`Not scheduled in group "${target.group.name}": ${created.reason}.`);
      createdInRun.set(ctx, inRun + 1);
      const task = created.task;
      // Its output goes back to the chat it was asked for in (another group's: its home chat).
      if (target.group.id === ctx.group.id) {
        store.taskChats.set(task.id, { channel: ctx.channel, chatId: ctx.chatId });
      }
      const b = input.budget;
      if (b) {
        store.taskBudgets.set(task.id, {
          ...(b.tool_calls !== undefined ? { toolCalls: b.tool_calls } : {}),
          ...(b.model_tokens !== undefined ? { modelTokens: b.model_tokens } : {}),
          ...(b.wall_time_ms !== undefined ? { wallTimeMs: b.wall_time_ms } : {}),
          ...(b.egress_requests !== undefined ? { egressRequests: b.egress_requests } : {}),
        });
      }
      deps.onChange?.({ action: 'scheduled', task, by: ctx.group.name });
      return ok(`Scheduled ${describeTask(task, target.group.name)}`);
    }),
    hostTool(hostToolSpecs.list_tasks, (ctx) => {
      const tasks = ctx.group.isAdmin
        ? store.tasks.listAll()
        : store.tasks.listForGroup(ctx.group.id);
      if (tasks.length === 0) return ok('No scheduled tasks.');
      return ok(tasks.map((t) => describeTask(t, groupName(t.groupId))).join('\n'));
    }),
    statusTool('pause_task', 'paused', 'paused'),
    statusTool('resume_task', 'active', 'resumed'),
    statusTool('cancel_task', 'cancelled', 'cancelled'),
    hostTool(hostToolSpecs.update_task, (ctx, input) => {
      const t = ownTask(ctx, input.task_id);
      if (!t.ok) return t.outcome;
      let schedule;
      if (input.schedule !== undefined) {
        const parsed = parseSchedule(input.schedule, {
          now: now(),
          defaultTimezone: deps.timezone,
        });
        if (!parsed.ok) return fail(`Invalid schedule: ${parsed.error}`);
        schedule = parsed.schedule;
      }
      return changed(
        ctx,
        'updated',
        store.tasks.update(
          t.task.id,
          {
            ...(input.prompt !== undefined ? { prompt: input.prompt } : {}),
            ...(schedule ? { schedule } : {}),
            ...(input.context_mode ? { contextMode: input.context_mode } : {}),
          },
          now(),
        ),
      );
    }),
  ];
}
