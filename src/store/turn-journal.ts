import type { ContentBlock, ConversationMessage } from '../agent/model-provider.js';
import type { ToolOutcome } from '../agent/agent-loop.js';
import type { Db } from './database.js';

/** Where an interrupted turn was: its steps so far, the results of the last round, the call running. */
export interface TurnProgress {
  steps: ConversationMessage[];
  results: ContentBlock[];
  inFlight: string | null;
}

interface Row {
  turn_key: string;
  steps: string;
  results: string;
  in_flight: string | null;
}

/**
 * Each group's running message turn, written as it goes: every model answer and tool result,
 * and which call is running, so a turn a crash cut off resumes from its last step. Host-tool
 * effects are kept by an idempotency key, so a call that did its work is never done again.
 */
/** A host tool call's idempotency key: its group, its turn and the model's id for the call. */
export function effectKey(groupId: number, turnKey: string, callId: string): string {
  return `${groupId}:${turnKey}:${callId}`;
}

export class TurnJournalStore {
  constructor(private readonly db: Db) {}

  /**
   * The turn `key` of the group: its progress when it was started before (and not finished),
   * else a fresh start (any other turn's leftovers dropped).
   */
  open(groupId: number, key: string): TurnProgress | undefined {
    const row = this.db
      .prepare('SELECT turn_key, steps, results, in_flight FROM turn_journal WHERE group_id = ?')
      .get(groupId) as Row | undefined;
    if (row && row.turn_key === key) {
      const progress = {
        steps: JSON.parse(row.steps) as ConversationMessage[],
        results: JSON.parse(row.results) as ContentBlock[],
        inFlight: row.in_flight,
      };
      return progress.steps.length > 0 ? progress : undefined;
    }
    this.db
      .prepare(
        `INSERT INTO turn_journal (group_id, turn_key, steps, results, in_flight) VALUES (?, ?, '[]', '[]', NULL)
         ON CONFLICT (group_id) DO UPDATE SET turn_key = excluded.turn_key, steps = '[]', results = '[]', in_flight = NULL`,
      )
      .run(groupId, key);
    return undefined;
  }

  /** A message the turn added (a round's results replace the partial ones). */
  step(groupId: number, message: ConversationMessage): void {
    this.db
      .prepare(
        `UPDATE turn_journal SET steps = json_insert(steps, '$[#]', json(?)), results = '[]', in_flight = NULL
         WHERE group_id = ?`,
      )
      .run(JSON.stringify(message), groupId);
  }

  /** A tool call passed the gate and is running now. */
  started(groupId: number, callId: string): void {
    this.db
      .prepare('UPDATE turn_journal SET in_flight = ? WHERE group_id = ?')
      .run(callId, groupId);
  }

  /** A tool call of the current round finished with `result`. */
  result(groupId: number, result: ContentBlock): void {
    this.db
      .prepare(
        `UPDATE turn_journal SET results = json_insert(results, '$[#]', json(?)), in_flight = NULL
         WHERE group_id = ?`,
      )
      .run(JSON.stringify(result), groupId);
  }

  /** The turn is over (its reply stored with it, in the caller's transaction). */
  finish(groupId: number): void {
    this.db.prepare('DELETE FROM turn_journal WHERE group_id = ?').run(groupId);
    // One turn per group at a time: its effects' keys start with the group (effectKey).
    const prefix = `${groupId}:`;
    this.db
      .prepare('DELETE FROM tool_effects WHERE substr(effect_key, 1, length(?)) = ?')
      .run(prefix, prefix);
  }

  /** What a host tool call with this key did, if it ran. */
  effect(key: string): ToolOutcome | undefined {
    const row = this.db
      .prepare('SELECT output, is_error FROM tool_effects WHERE effect_key = ?')
      .get(key) as { output: string; is_error: number } | undefined;
    return row && { output: row.output, isError: row.is_error === 1 };
  }

  recordEffect(key: string, outcome: ToolOutcome, now: Date): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO tool_effects (effect_key, output, is_error, at) VALUES (?, ?, ?, ?)',
      )
      .run(key, outcome.output, outcome.isError ? 1 : 0, now.toISOString());
  }
}
