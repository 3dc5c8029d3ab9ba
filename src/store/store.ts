import { openDatabase, type Db, type OpenOptions } from './database.js';
import { GroupBudgetStore } from './group-budgets.js';
import { GroupStore } from './groups.js';
import { HistoryStore } from './history.js';
import { HistorySearch } from './history-search.js';
import { ApprovalStore } from './approvals.js';
import { MessageStore } from './messages.js';
import { ModelChoiceStore } from './model-choices.js';
import { OwnerAccountStore } from './owner-accounts.js';
import { ProvenanceStore } from './provenance.js';
import { TurnJournalStore } from './turn-journal.js';
import { TaskBudgetStore } from './task-budgets.js';
import { TaskChatStore } from './task-chats.js';
import { TaskStore } from './tasks.js';
import { UsageStore } from './usage.js';

/** Everything the host keeps, in one SQLite file. */
export class Store {
  readonly groups: GroupStore;
  readonly messages: MessageStore;
  readonly history: HistoryStore;
  /** Full-text search over each group's history and archive. */
  readonly historySearch: HistorySearch;
  readonly tasks: TaskStore;
  readonly taskBudgets: TaskBudgetStore;
  readonly taskChats: TaskChatStore;
  readonly approvals: ApprovalStore;
  /** Groups and tasks with their own model. */
  readonly models: ModelChoiceStore;
  /** The owner's paired accounts on each chat platform, and pairing codes. */
  readonly owners: OwnerAccountStore;
  /** What untrusted content each group's session has read (src/guard). */
  readonly provenance: ProvenanceStore;
  /** Every model request's tokens (`nanocell usage`, group budgets). */
  readonly usage: UsageStore;
  /** Each group's daily model budget. */
  readonly groupBudgets: GroupBudgetStore;
  /** Each group's running message turn, so a crash does not repeat what it did. */
  readonly turns: TurnJournalStore;

  constructor(readonly db: Db) {
    this.groups = new GroupStore(db);
    this.messages = new MessageStore(db);
    this.history = new HistoryStore(db);
    this.historySearch = new HistorySearch(db);
    this.tasks = new TaskStore(db);
    this.taskBudgets = new TaskBudgetStore(db);
    this.taskChats = new TaskChatStore(db);
    this.approvals = new ApprovalStore(db);
    this.models = new ModelChoiceStore(db);
    this.owners = new OwnerAccountStore(db);
    this.provenance = new ProvenanceStore(db);
    this.usage = new UsageStore(db);
    this.groupBudgets = new GroupBudgetStore(db);
    this.turns = new TurnJournalStore(db);
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
