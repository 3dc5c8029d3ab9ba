import { z } from 'zod';
import type { RunContext } from '../run/run.js';
import { describeSchedule, parseSchedule } from '../scheduler/schedule.js';
import type { Store } from '../store/store.js';
import type { Task, TaskChange } from '../store/tasks.js';
import { fail, ok, targetGroup, type HostTool } from './host-tools.js';

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

const scheduleSchema = {
  type: 'object',
  description:
    'One of: { "kind": "cron", "expr": "0 9 * * 1-5", "timezone": "Europe/Berlin" }, { "kind": "interval", "everyMs": 3600000 }, { "kind": "once", "at": "2026-05-01T09:00", "timezone": "Europe/Berlin" } (or "at" with an offset). The timezone defaults to the owner\'s.',
};

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
  const idInput = z.object({ task_id: z.number().int().positive() });
  /** pause_task, resume_task, cancel_task: one status change of one of the caller's tasks. */
  const statusTool = (
    name: string,
    verb: string,
    status: 'active' | 'paused' | 'cancelled',
    done: string,
  ): HostTool => ({
    definition: idDefinition(name, verb),
    adminOnly: false,
    input: idInput,
    run(ctx, input) {
      const t = ownTask(ctx, input.task_id);
      return t.ok ? changed(ctx, done, store.tasks.setStatus(t.task.id, status, now())) : t.outcome;
    },
  });
  const idDefinition = (name: string, what: string) => ({
    name,
    description: `${what} a scheduled task of this group (the admin group: of any group).`,
    input_schema: {
      type: 'object' as const,
      properties: { task_id: { type: 'integer' } },
      required: ['task_id'],
    },
  });

  return [
    {
      definition: {
        name: 'schedule_task',
        description:
          "Schedule a prompt to run later or repeatedly in this group. context_mode 'group' runs it in the group's conversation; 'isolated' in a fresh one. The admin group may name another group.",
        input_schema: {
          type: 'object',
          properties: {
            prompt: { type: 'string' },
            schedule: scheduleSchema,
            context_mode: { type: 'string', enum: ['group', 'isolated'] },
            group: { type: 'string' },
            budget: {
              type: 'object',
              description:
                'Optional limits of each run, tighter than the defaults: tool_calls, model_tokens, wall_time_ms, egress_requests.',
              properties: {
                tool_calls: { type: 'integer' },
                model_tokens: { type: 'integer' },
                wall_time_ms: { type: 'integer' },
                egress_requests: { type: 'integer' },
              },
            },
          },
          required: ['prompt', 'schedule'],
        },
      },
      adminOnly: false,
      input: z.object({
        prompt: z.string().trim().min(1, 'must not be empty').max(10_000),
        schedule: z.unknown(),
        context_mode: z.enum(['group', 'isolated']).optional(),
        group: z.string().optional(),
        budget: z
          .object({
            tool_calls: z.number().int().positive().optional(),
            model_tokens: z.number().int().positive().optional(),
            wall_time_ms: z.number().int().positive().optional(),
            egress_requests: z.number().int().min(0).optional(),
          })
          .strict()
          .optional(),
      }),
      run(ctx, input) {
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
            prompt: String(input.prompt),
            schedule: parsed.schedule,
            contextMode: input.context_mode === 'isolated' ? 'isolated' : 'group',
          },
          deps.limits.perGroup,
          now(),
        );
        if (!created.ok)
          return fail(`Not scheduled in group "${target.group.name}": ${created.reason}.`);
        createdInRun.set(ctx, inRun + 1);
        const task = created.task;
        const b = input.budget as
          | {
              tool_calls?: number;
              model_tokens?: number;
              wall_time_ms?: number;
              egress_requests?: number;
            }
          | undefined;
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
      },
    },
    {
      definition: {
        name: 'list_tasks',
        description: "List this group's scheduled tasks (the admin group: every group's).",
        input_schema: { type: 'object', properties: {} },
      },
      adminOnly: false,
      input: z.object({}),
      run(ctx) {
        const tasks = ctx.group.isAdmin
          ? store.tasks.listAll()
          : store.tasks.listForGroup(ctx.group.id);
        if (tasks.length === 0) return ok('No scheduled tasks.');
        return ok(tasks.map((t) => describeTask(t, groupName(t.groupId))).join('\n'));
      },
    },
    statusTool('pause_task', 'Pause', 'paused', 'paused'),
    statusTool('resume_task', 'Resume', 'active', 'resumed'),
    statusTool('cancel_task', 'Cancel', 'cancelled', 'cancelled'),
    {
      definition: {
        name: 'update_task',
        description: "Change a task's prompt, schedule or context_mode.",
        input_schema: {
          type: 'object',
          properties: {
            task_id: { type: 'integer' },
            prompt: { type: 'string' },
            schedule: scheduleSchema,
            context_mode: { type: 'string', enum: ['group', 'isolated'] },
          },
          required: ['task_id'],
        },
      },
      adminOnly: false,
      input: z.object({
        task_id: z.number().int().positive(),
        prompt: z.string().trim().min(1, 'must not be empty').max(10_000).optional(),
        schedule: z.unknown().optional(),
        context_mode: z.enum(['group', 'isolated']).optional(),
      }),
      run(ctx, input) {
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
              ...(typeof input.prompt === 'string' ? { prompt: input.prompt } : {}),
              ...(schedule ? { schedule } : {}),
              ...(input.context_mode === 'group' || input.context_mode === 'isolated'
                ? { contextMode: input.context_mode }
                : {}),
            },
            now(),
          ),
        );
      },
    },
  ];
}
