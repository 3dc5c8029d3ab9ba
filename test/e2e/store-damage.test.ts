import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** A damaged or lost database: a message naming the file and the way back, never a stack. */
describe('a damaged or lost database', () => {
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let db: string;
  beforeEach(async () => {
    home = tempHome();
    env = { NANOCELL_HOME: path.join(home.dir, 'data'), ANTHROPIC_API_KEY: 'unused' };
    db = path.join(env.NANOCELL_HOME!, 'nanocell.db');
    const added = await runCli(['groups', 'add', 'family'], env);
    expect(added.code).toBe(0);
    for (const f of [`${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
  });
  afterEach(() => home.cleanup());

  it('names a corrupt file and says how to restore it', async () => {
    fs.writeFileSync(db, Buffer.alloc(8192, 0x5a));
    const r = await runCli(['groups'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the database ${db} is damaged`);
    expect(r.stderr).toContain('nanocell restore FILE --replace');
    expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
  });

  it.each([
    { what: 'deleted', damage: () => fs.rmSync(db), word: 'missing' },
    { what: 'emptied', damage: () => fs.truncateSync(db, 0), word: 'empty' },
  ])('refuses to take a $what database for a first run', async ({ damage, word }) => {
    damage();
    const r = await runCli(['groups'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the database ${db} is ${word}, but`);
    expect(r.stderr).toMatch(/group folder\(s\).*nanocell restore FILE --replace/s);
    expect(fs.existsSync(db) ? fs.statSync(db).size : 0).toBe(0);
  });
});
