import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EgressDecision } from './egress-grant.js';
import { EgressManager } from './egress-manager.js';
import { egressPolicy, httpRequest, sendRaw, tempDir } from './egress-test-kit.js';

describe('EgressManager runs', () => {
  let dir: string;
  let manager: EgressManager;
  const decisions: EgressDecision[] = [];

  beforeEach(() => {
    dir = tempDir('nanocell-egress-manager-');
    const forwarder = path.join(dir, 'forwarder.js');
    fs.writeFileSync(forwarder, '// forwarder stand-in\n');
    manager = new EgressManager(
      path.join(dir, 'run'),
      forwarder,
      (d) => decisions.push(d),
      pino({ level: 'silent' }),
    );
  });
  afterEach(async () => {
    await manager.closeAll();
    decisions.length = 0;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const setup = {
    grant: {
      groupName: 'family',
      policy: egressPolicy('allow http domain="nowhere.example.test"'),
      credentials: [],
      budget: { maxRequests: 10, maxBytes: 1_000_000 },
    },
    env: {},
  };

  it('gives a group without egress a run that counts nothing', () => {
    const run = manager.beginRun('family', { runId: 'r1' });
    expect(run.usage()).toEqual({ requests: 0, bytes: 0, refused: 0, overBudget: 0 });
    run.end();
  });

  it("counts requests against the run of the group's proxy, under its identity", async () => {
    const prepared = await manager.prepare('family', setup, owner);
    if (!prepared) throw new Error('no proxy');
    const request = httpRequest('GET', 'http://elsewhere.example.test/');
    const before = await sendRaw({ path: prepared.socketPath }, request);
    expect(before.body).toContain('no run of group family is going on');
    const run = manager.beginRun('family', { runId: 'r2', taskId: '4' }, { maxRequests: 1 });
    expect((await sendRaw({ path: prepared.socketPath }, request)).status).toBe(403);
    expect(run.usage()).toMatchObject({ requests: 0, refused: 1 });
    expect(decisions.map((d) => [d.runId, d.taskId])).toEqual([
      [null, null],
      ['r2', '4'],
    ]);
    run.end();
  });
});
