import { BudgetExceededError } from '../agent/agent-loop.js';
import { ModelError } from '../agent/model-provider.js';
import type { QueueJob } from '../router/group-queue.js';
import { DISK_FULL_MESSAGE, isDiskFull } from '../store/disk-full.js';
import type { Group } from '../store/groups.js';
import { groupBudgetGate } from './group-budget-gate.js';
import { runMessages } from './message-run.js';
import type { GroupRunDeps, RunOutcome } from './run.js';
import { runTask } from './task-run.js';

const RETRYABLE = new Set(['rate_limit', 'overloaded', 'server', 'timeout', 'connection']);

/**
 * One agent run for a group: a messages run (message-run.ts) or a task run (task-run.ts).
 * Never throws: failures are outcomes.
 */
export async function runGroup(
  deps: GroupRunDeps,
  groupId: number,
  job: QueueJob = { kind: 'messages' },
): Promise<RunOutcome> {
  const group = deps.store.groups.byId(groupId);
  if (!group) {
    return {
      ok: false,
      kind: 'no_group',
      error: `group ${groupId} no longer exists`,
      retryable: false,
    };
  }
  try {
    if (deps.diskFull?.()) {
      deps.onDiskFull?.();
      deps.log.error({ group: group.name }, 'run not started: data disk full');
      return { ok: false, kind: 'disk_full', error: DISK_FULL_MESSAGE, retryable: true };
    }
    const paused = groupBudgetGate(deps, group);
    if (paused) return paused;
    return job.kind === 'messages'
      ? await runMessages(deps, group)
      : await runTask(deps, group, job.taskId);
  } catch (err) {
    return failedRun(deps, group, err);
  } finally {
    // The run's cell dies with it; a spare for the next run starts meanwhile.
    void deps.pool.endRun(group.name);
  }
}

/** The one place a run's failure becomes an outcome, logged once. */
function failedRun(deps: GroupRunDeps, group: Group, err: unknown): RunOutcome {
  if (err instanceof BudgetExceededError) {
    deps.log.warn({ group: group.name, reason: err.message }, 'run stopped: budget');
    return { ok: false, kind: 'budget', error: err.message, retryable: false };
  }
  if (err instanceof ModelError) {
    deps.log.warn({ group: group.name, kind: err.kind, err }, 'run failed: model');
    return {
      ok: false,
      kind: `model_${err.kind}`,
      error: err.message,
      retryable: RETRYABLE.has(err.kind),
    };
  }
  if (isDiskFull(err)) {
    deps.onDiskFull?.();
    deps.log.error({ group: group.name, err }, 'run failed: data disk full');
    return { ok: false, kind: 'disk_full', error: DISK_FULL_MESSAGE, retryable: true };
  }
  deps.log.error({ group: group.name, err }, 'run failed');
  return {
    ok: false,
    kind: 'internal',
    error: `internal error: ${(err as Error).message}`,
    retryable: false,
  };
}
