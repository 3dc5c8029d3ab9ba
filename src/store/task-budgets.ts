import type { Db } from './database.js';

export interface TaskBudget {
  toolCalls?: number;
  modelTokens?: number;
  wallTimeMs?: number;
  egressRequests?: number;
}

interface Row {
  tool_calls: number | null;
  model_tokens: number | null;
  wall_time_ms: number | null;
  egress_requests: number | null;
}

/** Per-task run limits; a task without a row runs under the host's defaults. */
export class TaskBudgetStore {
  constructor(private readonly db: Db) {}

  get(taskId: number): TaskBudget | undefined {
    const r = this.db.prepare('SELECT * FROM task_budgets WHERE task_id = ?').get(taskId) as
      Row | undefined;
    if (!r) return undefined;
    return {
      ...(r.tool_calls !== null ? { toolCalls: r.tool_calls } : {}),
      ...(r.model_tokens !== null ? { modelTokens: r.model_tokens } : {}),
      ...(r.wall_time_ms !== null ? { wallTimeMs: r.wall_time_ms } : {}),
      ...(r.egress_requests !== null ? { egressRequests: r.egress_requests } : {}),
    };
  }

  set(taskId: number, b: TaskBudget): void {
    this.db
      .prepare(
        `INSERT INTO task_budgets (task_id, tool_calls, model_tokens, wall_time_ms, egress_requests)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (task_id) DO UPDATE SET tool_calls = excluded.tool_calls,
           model_tokens = excluded.model_tokens, wall_time_ms = excluded.wall_time_ms,
           egress_requests = excluded.egress_requests`,
      )
      .run(
        taskId,
        b.toolCalls ?? null,
        b.modelTokens ?? null,
        b.wallTimeMs ?? null,
        b.egressRequests ?? null,
      );
  }
}
