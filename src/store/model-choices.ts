import { PROVIDERS, type ProviderName } from '../config.js';
import type { Db } from './database.js';

export interface ModelChoice {
  provider: ProviderName;
  model: string;
}

interface Row {
  provider: string;
  model: string;
}

const MODEL_NAME = /^[\x21-\x7e]{1,200}$/;

/** Why a model choice cannot be stored, or undefined when it can. */
export function checkModelChoice(choice: { provider: string; model: string }): string | undefined {
  if (!(PROVIDERS as readonly string[]).includes(choice.provider)) {
    return `unknown provider "${choice.provider}": use one of ${PROVIDERS.join(', ')}`;
  }
  if (!MODEL_NAME.test(choice.model)) {
    return 'a model name is 1 to 200 printable characters without spaces, e.g. llama3.2 or claude-sonnet-5-5';
  }
  return undefined;
}

/** The groups and tasks that name their own model; the others use the configured one. */
export class ModelChoiceStore {
  constructor(private readonly db: Db) {}

  forGroup(groupId: number): ModelChoice | undefined {
    return this.read('SELECT provider, model FROM group_models WHERE group_id = ?', groupId);
  }

  forTask(taskId: number): ModelChoice | undefined {
    return this.read('SELECT provider, model FROM task_models WHERE task_id = ?', taskId);
  }

  /** `undefined` goes back to the configured model. */
  setForGroup(groupId: number, choice: ModelChoice | undefined): void {
    this.write('group_models', 'group_id', groupId, choice);
  }

  setForTask(taskId: number, choice: ModelChoice | undefined): void {
    this.write('task_models', 'task_id', taskId, choice);
  }

  private read(sql: string, id: number): ModelChoice | undefined {
    const row = this.db.prepare(sql).get(id) as Row | undefined;
    // A row another version wrote with a provider this one does not know is ignored.
    if (!row || checkModelChoice(row) !== undefined) return undefined;
    return { provider: row.provider as ProviderName, model: row.model };
  }

  private write(
    table: 'group_models' | 'task_models',
    key: 'group_id' | 'task_id',
    id: number,
    choice: ModelChoice | undefined,
  ): void {
    if (choice === undefined) {
      this.db.prepare(`DELETE FROM ${table} WHERE ${key} = ?`).run(id);
      return;
    }
    const problem = checkModelChoice(choice);
    if (problem) throw new Error(problem);
    this.db
      .prepare(
        `INSERT INTO ${table} (${key}, provider, model) VALUES (?, ?, ?)
         ON CONFLICT (${key}) DO UPDATE SET provider = excluded.provider, model = excluded.model`,
      )
      .run(id, choice.provider, choice.model);
  }
}
