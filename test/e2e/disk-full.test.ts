import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupQuota } from '../../src/groups/group-quota.js';
import {
  reply,
  startFakeModelServer,
  type FakeModelServer,
  type RecordedRequest,
} from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { tempHome } from '../support/temp-home.js';

const canMount = GroupQuota.available();
const runQuota = canMount.ok || Boolean(process.env.CI);
if (!runQuota) console.warn(`skipping disk quota suites: ${canMount.reason}`);

type Block = { type: string; content?: unknown; is_error?: boolean };
const toolResults = (req: RecordedRequest): Block[] => {
  const content = req.body?.messages?.at(-1)?.content;
  return Array.isArray(content) ? (content as Block[]).filter((b) => b.type === 'tool_result') : [];
};

/** Unmount every group image under `data` (the host leaves them mounted for its next start). */
function releaseQuotas(data: string): void {
  const groups = path.join(data, 'groups');
  if (!fs.existsSync(groups)) return;
  const quota = new GroupQuota({ home: data, quotaMb: 8, owner: { uid: 0, gid: 0 } });
  for (const name of fs.readdirSync(groups)) quota.release(name);
}

/** Fill the filesystem of `dir` with one file until it is full; returns the file. */
function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler.bin');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

for (const rt of runtimesUnderTest()) {
  describe.skipIf(!runQuota || !(await shouldRun(rt.make())))(
    `the per-group disk quota in a ${rt.name} cell`,
    () => {
      let model: FakeModelServer;
      let home: ReturnType<typeof tempHome>;
      let env: Record<string, string>;

      beforeAll(async () => {
        model = await startFakeModelServer();
        home = tempHome();
        env = {
          ANTHROPIC_API_KEY: 'sk-ant-test',
          ANTHROPIC_BASE_URL: model.url,
          NANOCELL_HOME: path.join(home.dir, 'data'),
          NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
          NANOCELL_RUNTIME: rt.name,
          NANOCELL_MODEL_MAX_RETRIES: '0',
          NANOCELL_GROUP_QUOTA_MB: '8',
        };
        fs.mkdirSync(env.NANOCELL_CONFIG_DIR!);
        const added = await runCli(['groups', 'add', 'family', '--no-trigger'], env);
        expect(added.code, added.stderr).toBe(0);
      });

      afterAll(async () => {
        await model?.close();
        if (home) releaseQuotas(path.join(home.dir, 'data'));
        home?.cleanup();
      });

      it('fails writes past the quota inside the cell, and the group keeps working', async () => {
        model.enqueue(
          reply().tool('bash', {
            command:
              'head -c 20M /dev/zero > big.bin; echo "rc=$?"; dd if=/dev/zero of=more.bin bs=1M count=4 2>&1 | tail -1; ls -l big.bin',
          }),
          reply().text('filled'),
          reply().tool('bash', {
            command:
              'rm -f big.bin more.bin; echo hi > small.txt; cat small.txt; echo "$(id -u)"; cat MEMORY.md; echo note >> MEMORY.md && echo EDITED',
          }),
          reply().text('recovered'),
        );
        const first = await runCli(['ask', '--group', 'family', 'fill the disk'], env);
        expect(first.code, first.stderr).toBe(0);
        expect(first.stdout.trim()).toBe('filled');
        const out = JSON.stringify(toolResults(model.requests[1]!)[0]?.content);
        expect(out).not.toMatch(/rc=0/);
        expect(out).toMatch(/No space left/);
        const folder = path.join(env.NANOCELL_HOME!, 'groups', 'family');
        expect(fs.statSync(path.join(folder, 'big.bin')).size).toBeLessThanOrEqual(8 * 1024 * 1024);
        // The data disk was never the one filling up.
        expect(fs.statSync(folder).dev).not.toBe(fs.statSync(env.NANOCELL_HOME!).dev);

        const second = await runCli(['ask', '--group', 'family', 'clean up'], env);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout.trim()).toBe('recovered');
        const cleaned = JSON.stringify(toolResults(model.requests[3]!)[0]?.content);
        expect(cleaned).toContain('hi');
        // The memory file the host made inside the image is the cell's to read and edit.
        expect(cleaned).toContain('Notes Andy keeps for this group');
        expect(cleaned).toContain('EDITED');
      }, 180_000);
    },
  );
}

/**
 * The data disk itself full (NANOCELL_HOME on a small tmpfs): the database, the log and the
 * audit log cannot be written. The host must not crash, the chat is told the disk is full,
 * and once there is room again it answers as before.
 */
describe.skipIf(!runQuota)('a host whose data disk is full', () => {
  let model: FakeModelServer;
  let mountDir: string;
  let home: ReturnType<typeof tempHome>;
  let host: HostProcess;
  let events: Awaited<ReturnType<HostProcess['subscribe']>>;
  let data: string;

  beforeAll(async () => {
    model = await startFakeModelServer();
    for (let i = 0; i < 20; i++) model.enqueue(reply().text('answer'));
    home = tempHome();
    mountDir = path.join(home.dir, 'small-disk');
    fs.mkdirSync(mountDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m,mode=0755', 'tmpfs', mountDir]);
    data = path.join(mountDir, 'data');
    const configDir = path.join(home.dir, 'owner-config');
    fs.mkdirSync(configDir);
    host = await startHost({
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: data,
      NANOCELL_CONFIG_DIR: configDir,
      NANOCELL_MODEL_MAX_RETRIES: '0',
      NANOCELL_RUN_MAX_ATTEMPTS: '1',
    });
    events = await host.subscribe();
  }, 120_000);

  afterAll(async () => {
    events?.close();
    await host?.stop();
    await model?.close();
    if (mountDir) execFileSync('umount', [mountDir]);
    home?.cleanup();
  });

  it('keeps running, tells the chat the disk is full, and answers again once there is room', async () => {
    expect((await host.post('owner', 'before')).status).toBeLessThan(300);
    expect(await events.next('owner')).toBe('answer');

    const filler = fillDisk(mountDir);
    // While full: nothing can be stored, so nothing is acknowledged as stored; the sender is
    // told why and what to do, and the host keeps running.
    const r = await host.post('owner', 'while full');
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({
      stored: false,
      error: expect.stringMatching(
        /not stored: the data disk is full \(NANOCELL_HOME\); free some space/,
      ),
    });
    expect(host.child.exitCode).toBeNull();

    fs.rmSync(filler);
    expect((await host.post('owner', 'after')).status).toBeLessThan(300);
    expect(await events.next('owner')).toBe('answer');
    expect(host.child.exitCode).toBeNull();
  }, 180_000);
});
