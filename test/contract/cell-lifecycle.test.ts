import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BwrapRuntime } from '../../src/cells/bwrap.js';
import { CellPool } from '../../src/cells/cell-pool.js';
import type { CellRuntime } from '../../src/cells/cell-runtime.js';
import { forceRemoveArgs } from '../../src/cells/container-args.js';
import { DockerRuntime } from '../../src/cells/docker.js';
import { PodmanRuntime } from '../../src/cells/podman.js';
import { loadConfig } from '../../src/config.js';
import { REPO_ROOT } from '../support/run-cli.js';
import { realRuntimes, shouldRun } from '../support/runtimes.js';
import { cellFixture, type CellFixture } from './cell-fixture.js';

const log = pino({ level: 'silent' });

let fx: CellFixture;
beforeAll(async () => {
  fx = await cellFixture();
});
afterAll(async () => {
  await fx.close();
});

/** Every live descendant of `pid` (ps), deepest last. */
function descendants(pid: number): number[] {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout;
  const children = new Map<number, number[]>();
  for (const line of ps.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    children.set(pp!, [...(children.get(pp!) ?? []), p!]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/\) Z /.test(readStat(pid));
function readStat(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return ') Z '; // gone
  }
}

/** Resolves once none of `pids` is alive; polls /proc, as nothing signals a stranger's exit. */
async function allExited(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pids.some(alive)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !pids.some(alive);
}

for (const rt of realRuntimes()) {
  describe.skipIf(!(await shouldRun(rt.make())))(`cell lifecycle: ${rt.name}`, () => {
    it('replaces a cell killed with kill -9, after failing the call it was running', async () => {
      const pool = new CellPool(rt.make(), 60_000, log);
      try {
        const cell = await pool.get(fx.spec());
        const inFlight = cell.call({
          tool: 'bash',
          input: { command: 'sleep 30' },
          timeoutMs: 20_000,
        });
        await cell.call({ tool: 'bash', input: { command: 'true' } });
        process.kill(cell.pid!, 'SIGKILL');
        const failed = await inFlight;
        expect(failed.ok).toBe(false);
        expect(failed.output).toContain('the cell stopped during this call');
        expect(failed.output).toContain('the next tool call starts a new cell');
        const next = await pool.get(fx.spec());
        expect(next.id).not.toBe(cell.id);
        expect((await next.call({ tool: 'bash', input: { command: 'echo again' } })).output).toBe(
          'again\n',
        );
        expect(pool.liveCount()).toBe(1);
      } finally {
        await pool.stopAll();
      }
    });
  });
}

const config = loadConfig({});
const containerEngines: Array<{
  name: string;
  make: (installId: string) => CellRuntime & { removeOrphans(): number };
  cli: string[];
}> = [
  {
    name: 'docker',
    make: (installId) => new DockerRuntime({ image: config.cellImage, installId }),
    cli: ['docker'],
  },
  {
    name: 'podman',
    make: (installId) => new PodmanRuntime({ image: config.cellImage, installId }),
    cli: ['podman'],
  },
];

for (const engine of containerEngines) {
  describe.skipIf(!(await shouldRun(engine.make('probe'))))(
    `orphan removal: ${engine.name}`,
    () => {
      it('removes cells of this install whose owner process is gone, and only those', async () => {
        const installId = `orphan-test-${process.pid}`;
        const gone = spawnSync('true').pid!;
        const start = (owner: number) => {
          const r = spawnSync(
            engine.cli[0]!,
            [
              'run',
              '-d',
              '--rm',
              ...(engine.name === 'podman'
                ? [
                    '--runtime',
                    'runc',
                    '--ulimit',
                    'nofile=4096:4096',
                    '--ulimit',
                    'nproc=4096:4096',
                  ]
                : []),
              '--network',
              'none',
              '--label',
              `nanocell.install=${installId}`,
              '--label',
              `nanocell.owner-pid=${owner}`,
              config.cellImage,
              'sleep',
              '120',
            ],
            { encoding: 'utf8' },
          );
          expect(r.status, r.stderr).toBe(0);
          return r.stdout.trim();
        };
        const orphan = start(gone);
        const owned = start(process.pid);
        try {
          expect(engine.make(installId).removeOrphans()).toBe(1);
          const left = spawnSync(
            engine.cli[0]!,
            ['ps', '-aq', '--no-trunc', '--filter', `label=nanocell.install=${installId}`],
            { encoding: 'utf8' },
          ).stdout;
          expect(left).toContain(owned.slice(0, 12));
          expect(left).not.toContain(orphan.slice(0, 12));
        } finally {
          // One at a time: podman removes none when one of the ids is already gone.
          for (const id of [orphan, owned]) {
            spawnSync(engine.cli[0]!, [...forceRemoveArgs(engine.cli[0]!), id]);
          }
        }
      });
    },
  );
}

const bwrap = () => new BwrapRuntime({ rootfs: config.cellRootfs });
describe.skipIf(!(await shouldRun(bwrap())))('bwrap cells die with their host process', () => {
  it('leaves no cell process after a kill -9 of the host, and removeOrphans clears its cgroup', async () => {
    const script = [
      `import { BwrapRuntime } from ${JSON.stringify(path.join(REPO_ROOT, 'dist', 'cells', 'bwrap.js'))};`,
      `const spec = JSON.parse(process.argv[1]);`,
      `const cell = await new BwrapRuntime({ rootfs: ${JSON.stringify(config.cellRootfs)} }).start(spec);`,
      `console.log(JSON.stringify({ pid: cell.pid }));`,
      `setInterval(() => {}, 1000);`,
    ].join('\n');
    const host = spawn(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify(fx.spec())],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const hostExit = new Promise((resolve) => host.on('exit', resolve));
    let sandbox: number[];
    try {
      const lines = readline.createInterface({ input: host.stdout! });
      const first = await new Promise<string>((resolve) => lines.once('line', resolve));
      const cellPid = (JSON.parse(first) as { pid: number }).pid;
      sandbox = [cellPid, ...descendants(cellPid)];
    } finally {
      host.kill('SIGKILL');
      await hostExit;
    }
    expect(sandbox.length).toBeGreaterThanOrEqual(3); // bwrap, its pid 1, the tool server
    expect(await allExited(sandbox, 5000)).toBe(true);
    const stale = () =>
      spawnSync(
        'find',
        ['/sys/fs/cgroup', '-maxdepth', '6', '-type', 'd', '-name', `${host.pid}-nanocell-*`],
        {
          encoding: 'utf8',
        },
      ).stdout.trim();
    const hasCgroups = bwrap().limitsPlan().mechanism !== 'rlimit';
    if (hasCgroups) expect(stale()).not.toBe('');
    expect(bwrap().removeOrphans()).toBeGreaterThanOrEqual(hasCgroups ? 1 : 0);
    expect(stale()).toBe('');
  });
});
