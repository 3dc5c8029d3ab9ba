import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processTreePssBytes } from '../../src/cells/cell-memory.js';
import type { Cell } from '../../src/cells/cell-runtime.js';
import { DockerRuntime } from '../../src/cells/docker.js';
import { PodmanRuntime } from '../../src/cells/podman.js';
import { loadConfig } from '../../src/config.js';
import { shouldRun } from '../support/runtimes.js';
import { until } from '../support/until.js';
import { cellFixture, type CellFixture } from './cell-fixture.js';

let fx: CellFixture;
beforeAll(async () => {
  fx = await cellFixture();
});
afterAll(async () => {
  await fx.close();
});

const image = loadConfig({}).cellImage;
const engines = [
  {
    engine: 'docker',
    make: (installId: string) => new DockerRuntime({ image, installId, shareNetns: true }),
  },
  {
    engine: 'podman',
    make: (installId: string) => new PodmanRuntime({ image, installId, shareNetns: true }),
  },
];

function sh(engine: string, args: string[]): string {
  const r = spawnSync(engine, args, { encoding: 'utf8', timeout: 30_000 });
  return r.stdout.trim();
}

/** Issue 17: cells join a long-lived, network-less namespace of their own group's. */
describe.each(engines)('namespace holders: $engine', ({ engine, make }) => {
  const installId = `netns-${process.pid}`;
  const holders = () =>
    sh(engine, [
      'ps',
      '--filter',
      `label=nanocell.install=${installId}`,
      '--filter',
      'name=netns',
      '--format',
      '{{.Names}}',
    ])
      .split('\n')
      .filter(Boolean);
  const networkOf = (cell: Cell) =>
    sh(engine, ['inspect', '--format', '{{.HostConfig.NetworkMode}}', cell.id]);

  it('starts the first cell on its own namespace, the next in a holder with nothing but loopback', async (ctx) => {
    const runtime = make(installId);
    if (!(await shouldRun(runtime))) return ctx.skip();
    try {
      const first = await runtime.start(fx.spec());
      expect(networkOf(first)).toBe('none');
      const holder = await until('a holder', () => holders()[0]);
      await first.stop();
      const second = await runtime.start(fx.spec());
      const holderId = sh(engine, ['inspect', '--format', '{{.Id}}', holder]);
      expect(networkOf(second)).toBe(`container:${holderId}`);
      // Where the container's own processes are, for the dashboard's memory reading.
      const memoryPid = await until('the container pid', () => second.memoryPid);
      expect(processTreePssBytes(memoryPid)).toBeGreaterThan(1024 * 1024);
      const links = await second.call({ tool: 'bash', input: { command: 'ls /sys/class/net' } });
      expect(links.output.trim()).toBe('lo');
      const out = await second.call({
        tool: 'bash',
        input: {
          command: `exec 3<>/dev/tcp/127.0.0.1/${fx.hostPort} && echo reached || echo refused`,
        },
      });
      expect(out.output).toContain('refused');
      await second.stop();
    } finally {
      await runtime.close();
    }
    expect(holders()).toEqual([]);
  });

  it('never puts two live cells in one holder, nor cells of two groups', async (ctx) => {
    const runtime = make(installId);
    if (!(await shouldRun(runtime))) return ctx.skip();
    const cells: Cell[] = [];
    try {
      const warm = await runtime.start(fx.spec());
      await until('a holder', () => holders()[0]);
      await warm.stop();
      cells.push(await runtime.start(fx.spec()), await runtime.start(fx.spec()));
      cells.push(await runtime.start({ ...fx.spec(), groupName: 'other' }));
      const [a, b, other] = cells.map(networkOf);
      expect(a).toMatch(/^container:/);
      expect(b).not.toBe(a);
      expect(other).toBe('none');
    } finally {
      await Promise.all(cells.map((c) => c.stop()));
      await runtime.close();
    }
    expect(holders()).toEqual([]);
  });
});
