import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, recordHash } from '../../src/audit/audit-record.js';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/**
 * Whoever can write the data dir rewrites the audit log and its head consistently, the way
 * an unkeyed chain allows: every hash recomputed with plain SHA-256. `audit verify` (the real
 * CLI) still finds it, because the key is in the owner's config dir.
 */
describe('./nanocell audit verify with the keyed chain', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let logFile: string;

  beforeAll(async () => {
    model = await startFakeModelServer();
    home = tempHome();
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'config'),
    };
    logFile = path.join(home.dir, 'data', 'audit', 'audit.log');
  });
  afterAll(async () => {
    await model.close();
    home.cleanup();
  });

  it('keys the log, and detects a consistent plain rewrite of the log and audit.head', async () => {
    model.enqueue(
      reply().tool('schedule_task', {
        prompt: 'water the plants',
        schedule: { kind: 'interval', everyMs: 3_600_000 },
      }),
      reply().text('scheduled'),
    );
    const asked = await runCli(['ask', 'remind me'], env);
    expect(asked.code, asked.stderr).toBe(0);
    const keyFile = path.join(home.dir, 'config', 'audit.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const intact = await runCli(['audit', 'verify'], env);
    expect(intact.code, intact.stdout).toBe(0);
    expect(intact.stdout).toMatch(/^audit log intact: \d+ records, keyed\n$/);

    // Erase the task's creation from the record and rechain everything, head included.
    const records = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { ts: string; event: { type: string } })
      .filter((r) => r.event.type !== 'task_change');
    let prev = GENESIS_HASH;
    const forged = records.map((r, i) => {
      const hash = recordHash(prev, i + 1, r.ts, r.event);
      const line = JSON.stringify({ seq: i + 1, ts: r.ts, prev, hash, event: r.event });
      prev = hash;
      return line;
    });
    fs.writeFileSync(logFile, `${forged.join('\n')}\n`);
    fs.writeFileSync(
      path.join(home.dir, 'data', 'audit', 'audit.head'),
      JSON.stringify({ seq: forged.length, hash: prev }),
    );

    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/record is not keyed, but every record from seq 1 on is/);
    expect(verify.stdout).toMatch(/audit log TAMPERED/);
  });
});
