import fs from 'node:fs';
import path from 'node:path';
import type { Db } from './database.js';

/** How many pre-upgrade copies are kept beside the database; older ones are removed. */
const KEEP = 5;

/**
 * A consistent copy of the database as it is before a schema upgrade, in `backups/` beside it
 * (0600), so an upgrade that goes wrong can be undone with `nanocell restore`'s store or by
 * copying the file back. Returns the copy's path.
 */
export function backupBeforeMigrate(db: Db, file: string, fromVersion: number): string {
  const dir = path.join(path.dirname(file), 'backups');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const copy = path.join(
    dir,
    `nanocell-schema-${String(fromVersion).padStart(3, '0')}-${stamp}.db`,
  );
  db.prepare('VACUUM INTO ?').run(copy);
  fs.chmodSync(copy, 0o600);
  const old = fs
    .readdirSync(dir)
    .filter((f) => /^nanocell-schema-\d{3}-.*\.db$/.test(f))
    .sort((a, b) => a.slice(20).localeCompare(b.slice(20)));
  for (const f of old.slice(0, Math.max(0, old.length - KEEP))) fs.rmSync(path.join(dir, f));
  return copy;
}
