import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../config.js';
import { backupBeforeMigrate } from './pre-migration-backup.js';

export type Db = Database.Database;

const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'src', 'store', 'migrations');

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface OpenOptions {
  /** Told where the copy went when an existing database was backed up before an upgrade. */
  onBackup?: (copy: string, fromVersion: number, toVersion: number) => void;
}

/**
 * Open (or create) the database at `file` (':memory:' for tests), in WAL mode, and apply
 * every numbered migration in src/store/migrations that it has not seen yet. An existing
 * database is copied to `backups/` first (an upgrade).
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file);
  } catch (cause) {
    throw new StoreError(`cannot open the database at ${file}`, { cause });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, file, options);
    reuseStatements(db);
  } catch (cause) {
    db.close();
    const code = (cause as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new StoreError(
        `the database ${file} is damaged (${(cause as Error).message}). Restore your last backup ` +
          `with \`nanocell restore FILE --replace\` (README: Stop and restart, Backup), or move the ` +
          `file aside to start again with an empty store.`,
        { cause },
      );
    }
    throw cause;
  }
  return db;
}

/** More distinct statements than the code has means SQL is being built per call: start over. */
const MAX_CACHED_STATEMENTS = 512;

/**
 * `db.prepare(sql)` compiled once per SQL text and reused (issue 17): the stores prepare their
 * statements where they use them, and compiling is most of a small query's cost. Only the
 * one-argument form is cached (better-sqlite3's own `pragma()` prepares with more and changes
 * the statement it gets); none of the stores switch a statement's mode (pluck, raw, expand).
 */
function reuseStatements(db: Db): void {
  const compile = db.prepare.bind(db) as (...args: unknown[]) => Database.Statement;
  const cache = new Map<string, Database.Statement>();
  const prepare = (...args: unknown[]): Database.Statement => {
    const sql = args[0];
    if (args.length !== 1 || typeof sql !== 'string') return compile(...args);
    let statement = cache.get(sql);
    if (!statement) {
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear();
      statement = compile(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
  db.prepare = prepare as Db['prepare'];
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, dbFile: string, options: OpenOptions): void {
  const current = schemaVersion(db);
  const files = fs
    .readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}-[a-z0-9-]+\.sql$/.test(f))
    .sort();
  const pending = files.filter((f) => Number(f.slice(0, 3)) > current);
  if (current > 0 && pending.length > 0 && dbFile !== ':memory:') {
    const copy = backupBeforeMigrate(db, dbFile, current);
    options.onBackup?.(copy, current, Number(pending.at(-1)!.slice(0, 3)));
  }
  for (const file of files) {
    const version = Number(file.slice(0, 3));
    if (version <= current) continue;
    const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
