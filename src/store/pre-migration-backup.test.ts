import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config.js';
import { schemaVersion } from './database.js';
import { Store } from './store.js';

const MIGRATIONS = path.join(PROJECT_ROOT, 'src', 'store', 'migrations');

/** A database as an older release left it: the migrations up to `version` only. */
function oldDatabase(file: string, version: number): void {
  const db = new Database(file);
  for (const f of fs.readdirSync(MIGRATIONS).sort()) {
    if (!/^\d{3}-/.test(f) || Number(f.slice(0, 3)) > version) continue;
    db.exec(fs.readFileSync(path.join(MIGRATIONS, f), 'utf8'));
  }
  db.pragma(`user_version = ${version}`);
  db.prepare(
    "INSERT INTO groups (name, folder, is_admin, created_at) VALUES ('main', 'main', 1, '2026-01-01T00:00:00Z')",
  ).run();
  db.close();
}

describe('upgrading the schema', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-upgrade-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('copies an existing database to backups/ before migrating it, and says where', () => {
    const file = path.join(dir, 'nanocell.db');
    oldDatabase(file, 8);
    const told: unknown[] = [];
    const store = Store.open(file, { onBackup: (...args) => told.push(args) });
    try {
      expect(schemaVersion(store.db)).toBeGreaterThan(8);
      expect(store.groups.list().map((g) => g.name)).toEqual(['main']);
    } finally {
      store.close();
    }
    const copies = fs.readdirSync(path.join(dir, 'backups'));
    expect(copies).toHaveLength(1);
    const copy = path.join(dir, 'backups', copies[0]!);
    expect(copies[0]).toMatch(/^nanocell-schema-008-.*\.db$/);
    expect(told).toEqual([[copy, 8, expect.any(Number)]]);
    expect(fs.statSync(copy).mode & 0o777).toBe(0o600);
    const old = new Database(copy, { readonly: true });
    expect(schemaVersion(old)).toBe(8);
    expect(old.prepare('SELECT name FROM groups').all()).toEqual([{ name: 'main' }]);
    old.close();
  });

  it('makes no copy for a new database or one that is already current', () => {
    const file = path.join(dir, 'nanocell.db');
    Store.open(file).close();
    Store.open(file).close();
    expect(fs.existsSync(path.join(dir, 'backups'))).toBe(false);
  });
});
