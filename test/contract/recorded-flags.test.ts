import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppleContainerRuntime } from '../../src/cells/apple-container.js';
import { DockerSandboxesRuntime } from '../../src/cells/docker-sandboxes.js';
import { loadConfig } from '../../src/config.js';
import { makeRecordingFake } from '../support/fake-runtime-cli.js';
import { fakeCliRuntimes } from '../support/runtimes.js';
import { CELL_LIMITS, cellFixture, type CellFixture } from './cell-fixture.js';

/**
 * The runtimes that cannot run here (Apple container, Docker Sandboxes): what their real CLI
 * is asked to enforce, read from the argv a recording fake captured while the runtime's own
 * code started, used and stopped a cell. NOT a test on real hardware.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-recorded-'));
let fx: CellFixture;
beforeAll(async () => {
  fx = await cellFixture();
  process.env.NANOCELL_CONTRACT_SECRET = 'host-only-secret';
});
afterAll(async () => {
  delete process.env.NANOCELL_CONTRACT_SECRET;
  await fx.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The value after `flag` in argv, for every occurrence. */
const values = (argv: string[], flag: string) =>
  argv.flatMap((a, i) => (a === flag && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));

const [apple, sandboxes] = fakeCliRuntimes(dir);

describe('Apple container (recorded flags; not tested on real hardware)', () => {
  it('runs each cell as an offline, read-only, capability-less VM with limits and only the grant', async () => {
    const cell = await apple!.make().start(fx.spec());
    expect((await cell.call({ tool: 'bash', input: { command: 'echo hi' } })).output).toBe('hi\n');
    await cell.stop();
    const calls = apple!.fake.calls();
    const run = calls.find((c) => c[0] === 'run')!;
    expect(run).toBeDefined();
    const name = values(run, '--name')[0]!;
    expect(name).toMatch(new RegExp(`^nanocell-test-${process.pid}-contract-[0-9a-f]{6}$`));
    for (const flag of ['--rm', '-i', '--init', '--read-only']) expect(run).toContain(flag);
    expect(values(run, '--network')).toEqual(['none']);
    expect(values(run, '--cap-drop')).toEqual(['ALL']);
    const [uid, gid] = values(run, '--user')[0]!.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    expect(values(run, '--memory')).toEqual([`${CELL_LIMITS.memoryMb}M`]);
    expect(values(run, '--cpus')).toEqual([String(CELL_LIMITS.cpus)]);
    expect(values(run, '--ulimit')).toEqual([`nproc=${CELL_LIMITS.pids}:${CELL_LIMITS.pids}`]);
    expect(values(run, '--tmpfs').sort()).toEqual(['/home/cell', '/tmp']);
    expect(values(run, '--label')).toContain('nanocell.install=test');
    const mounts = values(run, '--mount');
    expect(mounts).toContain(`type=bind,source=${fx.groupDir},target=/workspace/group`);
    expect(mounts).toContain(
      `type=bind,source=${fx.readOnlyDir},target=/workspace/extra/docs,readonly`,
    );
    expect(mounts.filter((m) => !m.endsWith(',readonly'))).toHaveLength(1);
    expect(mounts.join(' ')).not.toContain(fx.otherGroupDir);
    expect(mounts.join(' ')).not.toContain('.config');
    const env = values(run, '--env').map((e) => e.split('=')[0]);
    expect(env.sort()).toEqual(Object.keys(fx.spec().env).sort());
    expect(run.join(' ')).not.toContain('host-only-secret');
    expect(calls.at(-1)).toEqual(['delete', '--force', name]);
  });

  it('says how to get it when the CLI is missing, and when its services are down', async () => {
    const missing = new AppleContainerRuntime({
      image: 'x',
      installId: 'test',
      containerPath: path.join(dir, 'no-such-container-cli'),
    });
    expect((await missing.status()).detail).toMatch(/needs macOS 26 on Apple silicon/);
    const down = makeRecordingFake(fs.mkdtempSync(path.join(dir, 'down-')), 'container', {
      down: true,
    });
    const st = await new AppleContainerRuntime({
      image: 'x',
      installId: 'test',
      containerPath: down.bin,
    }).status();
    expect(st.ok).toBe(false);
    expect(st.detail).toContain('container system start');
  });

  it('reports what it enforces and what it does not', async () => {
    const st = await apple!.make().status();
    expect(st.ok).toBe(true);
    expect(st.detail).toContain('not tested on real hardware');
    expect(st.notEnforced?.join(' ')).toMatch(/no-new-privileges/);
  });
});

describe('Docker Sandboxes (recorded flags; not tested on real hardware)', () => {
  it('creates a sandbox with only the grant, denies its network, then runs the tool server unprivileged', async () => {
    const cell = await sandboxes!.make().start(fx.spec());
    expect((await cell.call({ tool: 'bash', input: { command: 'echo hi' } })).output).toBe('hi\n');
    await cell.stop();
    const calls = sandboxes!.fake.calls().map((c) => c.slice(1)); // drop "sandbox"
    const create = calls.find((c) => c[0] === 'create')!;
    const name = values(create, '--name')[0]!;
    expect(name).toMatch(new RegExp(`^nanocell-test-${process.pid}-contract-`));
    expect(values(create, '--pull-template')).toEqual(['never']);
    expect(values(create, '--template')).toEqual([loadConfig({}).cellImage]);
    const workspaces = create.slice(create.indexOf('shell') + 1);
    expect(workspaces).toEqual([
      fx.groupDir,
      `${fx.readOnlyDir}:ro`,
      `${path.dirname(loadConfig({}).toolServerPath)}:ro`,
    ]);
    const order = calls.map((c) => c[0]);
    const proxy = calls.findIndex((c) => c[0] === 'network');
    expect(calls[proxy]).toEqual(['network', 'proxy', name, '--policy', 'deny']);
    const serverAt = calls.findIndex((c) => c[0] === 'exec' && c.includes('-i'));
    expect(proxy).toBeLessThan(serverAt);
    const server = calls[serverAt]!;
    expect(Number(values(server, '--user')[0]!.split(':')[0])).toBeGreaterThan(0);
    expect(values(server, '--workdir')).toEqual([fx.groupDir]);
    expect(
      values(server, '--env')
        .map((e) => e.split('=')[0])
        .sort(),
    ).toEqual(Object.keys(fx.spec().env).sort());
    const link = calls.find((c) => c[0] === 'exec' && c.includes('-e'))!;
    expect(values(link, '--user')).toEqual(['root']);
    expect(JSON.parse(link.at(-1)!)).toEqual([
      [fx.groupDir, '/workspace/group'],
      [fx.readOnlyDir, '/workspace/extra/docs'],
    ]);
    expect(order.at(-1)).toBe('rm');
    expect(calls.at(-1)).toEqual(['rm', name]);
  });

  it('says it needs Docker Desktop when the sandbox plugin is missing', async () => {
    const down = makeRecordingFake(fs.mkdtempSync(path.join(dir, 'down-')), 'docker', {
      down: true,
    });
    const st = await new DockerSandboxesRuntime({
      image: 'x',
      installId: 'test',
      dockerPath: down.bin,
    }).status();
    expect(st.ok).toBe(false);
    expect(st.detail).toContain('Docker Desktop 4.50');
  });
});
