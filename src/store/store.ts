import { openDatabase, type Db } from './database.js';
import { GroupStore } from './groups.js';
import { HistoryStore } from './history.js';
import { MessageStore } from './messages.js';

/** Everything the host keeps, in one SQLite file. */
export class Store {
  readonly groups: GroupStore;
  readonly messages: MessageStore;
  readonly history: HistoryStore;

  constructor(readonly db: Db) {
    this.groups = new GroupStore(db);
    this.messages = new MessageStore(db);
    this.history = new HistoryStore(db);
  }

  static open(file: string): Store {
    return new Store(openDatabase(file));
  }

  /** Run `fn` atomically: all of its writes land, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}
