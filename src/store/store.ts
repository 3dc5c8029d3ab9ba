import { openDatabase, type Db, type OpenOptions } from './database.js';
import { GroupStore } from './groups.js';
import { HistoryStore } from './history.js';
import { ApprovalStore } from './approvals.js';
import { MessageStore } from './messages.js';
import { ModelChoiceStore } from './model-choices.js';
import { TaskBudgetStore } from './task-budgets.js';
import { TaskChatStore } from './task-chats.js';
import { TaskStore } from './tasks.js';

/** Everything the host keeps, in one SQLite file. */
export class Store {
  readonly groups: GroupStore;
  readonly messages: MessageStore;
  readonly history: HistoryStore;
  readonly tasks: TaskStore;
  readonly taskBudgets: TaskBudgetStore;
  readonly taskChats: TaskChatStore;
  readonly approvals: ApprovalStore;
  /** Groups and tasks with their own model. */
  readonly models: ModelChoiceStore;

  constructor(readonly db: Db) {
    this.groups = new GroupStore(db);
    this.messages = new MessageStore(db);
    this.history = new HistoryStore(db);
    this.tasks = new TaskStore(db);
    this.taskBudgets = new TaskBudgetStore(db);
    this.taskChats = new TaskChatStore(db);
    this.approvals = new ApprovalStore(db);
    this.models = new ModelChoiceStore(db);
  }

  static open(file: string, options: OpenOptions = {}): Store {
    return new Store(openDatabase(file, options));
  }

  /** Run `fn` atomically: all of its writes land, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}
