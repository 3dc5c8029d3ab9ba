import type { ModelUsage } from '../agent/model-provider.js';
import type { Db } from './database.js';

export interface UsageRecord extends ModelUsage {
  runId: string;
  groupId: number;
  taskId?: number;
  provider: string;
  model: string;
  at: Date;
}

export interface UsageTotals extends ModelUsage {
  /** What the rows were grouped by: group id, model or ISO day. */
  key: string;
  model: string;
  requests: number;
}

const whole = (n: number, what: string): number => {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`${what} must be a whole number ≥ 0`);
  return n;
};

/** The tokens of every model request, recorded as each response arrives. */
export class UsageStore {
  constructor(private readonly db: Db) {}

  record(r: UsageRecord): void {
    this.db
      .prepare(
        `INSERT INTO model_usage (run_id, group_id, task_id, provider, model, input_tokens,
           output_tokens, cache_read_tokens, cache_write_tokens, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.runId,
        r.groupId,
        r.taskId ?? null,
        r.provider,
        r.model,
        whole(r.inputTokens, 'input tokens'),
        whole(r.outputTokens, 'output tokens'),
        whole(r.cacheReadTokens, 'cache read tokens'),
        whole(r.cacheWriteTokens, 'cache write tokens'),
        r.at.toISOString(),
      );
  }

  /** Totals since `since` (optionally one group), per key and model so each can be priced. */
  totals(by: 'group' | 'model' | 'day', since: Date, groupId?: number): UsageTotals[] {
    const key =
      by === 'group' ? 'CAST(group_id AS TEXT)' : by === 'model' ? 'model' : 'substr(at, 1, 10)';
    const rows = this.db
      .prepare(
        `SELECT ${key} AS key, model, COUNT(*) AS requests,
           SUM(input_tokens) AS inputTokens, SUM(output_tokens) AS outputTokens,
           SUM(cache_read_tokens) AS cacheReadTokens, SUM(cache_write_tokens) AS cacheWriteTokens
         FROM model_usage WHERE at >= ? AND (? IS NULL OR group_id = ?)
         GROUP BY key, model ORDER BY key, model`,
      )
      .all(since.toISOString(), groupId ?? null, groupId ?? null) as UsageTotals[];
    return rows;
  }
}
