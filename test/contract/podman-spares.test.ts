import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cell, CellCall, CellRuntime, CellSpec } from '../../src/cells/cell-runtime.js';
import { PodmanRuntime } from '../../src/cells/podman.js';
import { loadConfig } from '../../src/config.js';
import { realRuntimes, shouldRun } from '../support/runtimes.js';
import { until } from '../support/until.js';
import { cellAttackContract } from './cell-attacks.contract.js';
import { bashIn, cellFixture, type CellFixture } from './cell-fixture.js';
import { cellIsolationContract } from './cell-isolation.contract.js';
import { cellProtocolContract } from './cell-protocol.contract.js';

const image = loadConfig({}).cellImage;
const podman = realRuntimes().find((r) => r.name === 'podman')!;

function sh(args: string[]): string {
  return spawnSync('podman', args, { encoding: 'utf8', timeout: 30_000 }).stdout.trim();
}

/** The install's containers podman lists in `state` (created, running, ...). */
function containers(installId: string, state: string): string[] {
  return sh([
    'ps',
    '-a',
    '--filter',
    `label=nanocell.install=${installId}`,
    '--filter',
    `status=${state}`,
    '--format',
    '{{.Names}}',
  ])
    .split('\n')
    .filter((n) => n && !n.includes('-netns-'));
}

let installs = 0;
const spareRuntime = () => {
  const installId = `spares-${process.pid}-${++installs}`;
  return {
    installId,
    runtime: new PodmanRuntime({ image, installId, shareNetns: true, spares: true }),
  };
};

/** Start a cell of `spec` and return the spare its start leaves behind. */
async function startLeavingSpare(runtime: PodmanRuntime, installId: string, spec: CellSpec) {
  const cell = await runtime.start(spec);
  const spare = await until('a spare', () => containers(installId, 'created')[0]);
  return { cell, spare };
}

/**
 * A runtime whose every cell starts from a spare: one start and stop of the same spec first,
 * then the start checked to have taken the spare; stopping the cell closes the runtime.
 */
function startsFromSpares(): CellRuntime {
  return {
    name: 'podman (from a spare)',
    status: () => new PodmanRuntime({ image, installId: 'status' }).status(),
    async start(spec: CellSpec): Promise<Cell> {
      const { installId, runtime } = spareRuntime();
      const { cell: first, spare } = await startLeavingSpare(runtime, installId, spec);
      await first.stop();
      const cell = await runtime.start(spec);
      if (cell.id !== spare)
        throw new Error(`the cell ${cell.id} did not start from the spare ${spare}`);
      return {
        id: cell.id,
        get alive() {
          return cell.alive;
        },
        get pid() {
          return cell.pid;
        },
        get memoryPid() {
          return cell.memoryPid;
        },
        call: (call: CellCall) => cell.call(call),
        stop: async () => {
          await cell.stop();
          await runtime.close();
        },
      };
    },
  };
}

describe.skipIf(!(await shouldRun(podman.make())))('podman cells from spare containers', () => {
  let fx: CellFixture;
  beforeAll(async () => {
    fx = await cellFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('starts the next cell of a group from the spare its last start created, through the API service', async () => {
    const { installId, runtime } = spareRuntime();
    try {
      const { cell: first, spare } = await startLeavingSpare(runtime, installId, fx.spec());
      expect(first.id).not.toBe(spare);
      await first.stop();
      const second = await runtime.start(fx.spec());
      expect(second.id).toBe(spare);
      // The service's socket: an unguessable directory in one only the host can list.
      const socket = (runtime as unknown as { service: { socketPath: string } }).service.socketPath;
      expect(fs.statSync(path.dirname(socket)).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.dirname(path.dirname(socket))).mode & 0o777).toBe(0o711);
      expect(path.basename(path.dirname(socket))).toMatch(/^[0-9a-f]{32}$/);
      if (process.getuid?.() === 0) {
        // The cells' uid cannot reach it on the host, even knowing the path.
        const probe = spawnSync(
          'setpriv',
          [
            '--reuid',
            '10001',
            '--regid',
            '10001',
            '--clear-groups',
            process.execPath,
            '-e',
            `require('net').createConnection(${JSON.stringify(socket)}).on('connect', () => console.log('connected')).on('error', (e) => console.log(e.code))`,
          ],
          { encoding: 'utf8', timeout: 10_000 },
        );
        expect(probe.stdout.trim()).toBe('EACCES');
      }
      expect(containers(installId, 'running')).toContain(spare);
      const bash = bashIn(() => second);
      expect(await bash('echo hi; exit 3')).toMatchObject({ ok: false });
      expect((await bash('id -u; cat /proc/1/status | grep -c NoNewPrivs')).output).toMatch(
        /^\d+\n1\n$/,
      );
      // The next spare is there already, and stopping the cell removes the cell.
      const next = await until('the next spare', () =>
        containers(installId, 'created').find((n) => n !== spare),
      );
      await second.stop();
      expect(containers(installId, 'running')).not.toContain(spare);
      expect(sh(['container', 'exists', spare])).toBe('');
      expect(spawnSync('podman', ['container', 'exists', spare]).status).not.toBe(0);
      expect(spawnSync('podman', ['container', 'exists', next]).status).toBe(0);
    } finally {
      await runtime.close();
    }
    // close() removes the spares and ends the service.
    expect(containers(installId, 'created')).toEqual([]);
  });

  it('removes a spare made for another spec, and starts the plain way', async () => {
    const { installId, runtime } = spareRuntime();
    try {
      const { cell, spare } = await startLeavingSpare(runtime, installId, fx.spec());
      await cell.stop();
      const other = { ...fx.spec(), limits: { ...fx.spec().limits, memoryMb: 384 } };
      const changed = await runtime.start(other);
      expect(changed.id).not.toBe(spare);
      expect((await changed.call({ tool: 'bash', input: { command: 'echo ok' } })).output).toBe(
        'ok\n',
      );
      await until('the old spare removed', () =>
        spawnSync('podman', ['container', 'exists', spare]).status !== 0 ? true : undefined,
      );
      await changed.stop();
    } finally {
      await runtime.close();
    }
  });

  it('starts the plain way when the spare is gone, launches a dead service again, and says how a spare cell ended', async () => {
    const { installId, runtime } = spareRuntime();
    try {
      const { cell, spare } = await startLeavingSpare(runtime, installId, fx.spec());
      await cell.stop();
      sh(['rm', '-f', spare]);
      const fallback = await runtime.start(fx.spec());
      expect(fallback.id).not.toBe(spare);
      expect((await fallback.call({ tool: 'bash', input: { command: 'echo ok' } })).ok).toBe(true);
      await fallback.stop();
      // The service dies: the next start launches it again and still takes the spare.
      const service = (runtime as unknown as { service: { pid?: number } }).service;
      const killed = await until('the service', () => service.pid);
      process.kill(killed, 'SIGKILL');
      await until('the service gone', () => (service.pid === killed ? undefined : true));
      const next = await until('a spare', () => containers(installId, 'created')[0]);
      const fromSpare = await runtime.start(fx.spec());
      expect(fromSpare.id).toBe(next);
      expect(service.pid).toBeGreaterThan(0);
      expect(service.pid).not.toBe(killed);
      // The tool server dying ends the cell, with its exit code.
      const died = await fromSpare.call({
        tool: 'bash',
        input: { command: 'kill -9 -1' },
      });
      expect(died.ok).toBe(false);
      expect(died.output).toMatch(
        /the cell stopped during this call: cell process exited \((code \d+|SIG\w+)\)/,
      );
      await until('the cell gone', () => (fromSpare.alive ? undefined : true));
      await fromSpare.stop();
    } finally {
      await runtime.close();
    }
    expect(containers(installId, 'created')).toEqual([]);
  });

  it('ends the service with the host, even a host killed with -9', async () => {
    const script = `
      import { PodmanRuntime } from './dist/cells/podman.js';
      const rt = new PodmanRuntime({ image: ${JSON.stringify(image)}, installId: 'spares-kill-${process.pid}', spares: true });
      const cell = await rt.start(${JSON.stringify(fx.spec())});
      console.log(JSON.stringify({ service: rt.service.pid }));
      setInterval(() => {}, 1000);
    `;
    const child = (await import('node:child_process')).spawn(
      process.execPath,
      ['--input-type=module', '-e', script],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve) =>
      child.stdout.once('data', (d: Buffer) => resolve(d.toString())),
    );
    const servicePid = (JSON.parse(line) as { service: number }).service;
    expect(fs.existsSync(`/proc/${servicePid}`)).toBe(true);
    child.kill('SIGKILL');
    await until(
      'the service to end',
      () => (fs.existsSync(`/proc/${servicePid}`) ? undefined : true),
      15_000,
    );
    new PodmanRuntime({ image, installId: `spares-kill-${process.pid}` }).removeOrphans();
    expect(containers(`spares-kill-${process.pid}`, 'created')).toEqual([]);
  });
});

// The protocol, isolation and attack contracts, on cells that started from a spare.
describe.skipIf(!(await shouldRun(podman.make())))('podman (from a spare)', () => {
  cellProtocolContract('podman (from a spare)', startsFromSpares);
  cellIsolationContract('podman (from a spare)', startsFromSpares, podman);
  cellAttackContract('podman (from a spare)', startsFromSpares);
});
