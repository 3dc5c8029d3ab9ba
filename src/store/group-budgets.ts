import type { GroupDayBudget } from '../usage/group-budget.js';
import type { Db } from './database.js';

interface Row {
  tokens: number | null;
  usd: number | null;
}

/** Each group's daily model budget, and the day its owner was last told it is paused. */
export class GroupBudgetStore {
  constructor(private readonly db: Db) {}

  /** `{}` (no limit) for a group without one. */
  get(groupId: number): GroupDayBudget {
    const row = this.db
      .prepare('SELECT tokens, usd FROM group_budgets WHERE group_id = ?')
      .get(groupId) as Row | undefined;
    return {
      ...(row?.tokens != null ? { tokens: row.tokens } : {}),
      ...(row?.usd != null ? { usd: row.usd } : {}),
    };
  }

  /** Sets the kinds given; `null` clears a kind. A kind left out keeps its value. */
  set(groupId: number, change: { tokens?: number | null; usd?: number | null }): GroupDayBudget {
    const now = this.get(groupId);
    const tokens = change.tokens === undefined ? (now.tokens ?? null) : change.tokens;
    const usd = change.usd === undefined ? (now.usd ?? null) : change.usd;
    this.db
      .prepare(
        `INSERT INTO group_budgets (group_id, tokens, usd) VALUES (?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET tokens = excluded.tokens, usd = excluded.usd,
           notified_day = NULL`,
      )
      .run(groupId, tokens, usd);
    return this.get(groupId);
  }

  /**
   * Marks the owner told on `day` (YYYY-MM-DD, UTC); true the first time for that day only,
   * so two runs at once cannot both tell.
   */
  markNotified(groupId: number, day: string): boolean {
    const result = this.db
      .prepare(
        `UPDATE group_budgets SET notified_day = ?
         WHERE group_id = ? AND (notified_day IS NULL OR notified_day <> ?)`,
      )
      .run(day, groupId, day);
    return result.changes > 0;
  }
}
