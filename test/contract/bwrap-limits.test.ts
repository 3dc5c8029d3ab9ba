import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BwrapRuntime } from '../../src/cells/bwrap.js';
import { CgroupLimiter } from '../../src/cells/cgroup-limits.js';
import type { Cell } from '../../src/cells/cell-runtime.js';
import { loadConfig } from '../../src/config.js';
import { shouldRun } from '../support/runtimes.js';
import { CELL_LIMITS, bashIn, cellFixture, type CellFixture } from './cell-fixture.js';

/** How bwrap cells get their limits: a cgroup per cell, or rlimits where none can be made. */
const config = loadConfig({});
const cgroupRuntime = () => new BwrapRuntime({ rootfs: config.cellRootfs });
const cgroupsHere = cgroupRuntime().limitsPlan().mechanism !== 'rlimit';

let fx: CellFixture;
beforeAll(async () => {
  fx = await cellFixture();
});
afterAll(async () => {
  await fx.close();
});

/** The cgroup (per controller) that /proc/PID/cgroup names. */
function cgroupsOf(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, controllers, p] = line.split(':');
    for (const c of (controllers ?? '').split(',')) out.set(c, p ?? '');
  }
  return out;
}

function treeOf(pid: number): number[] {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout;
  const pairs = ps
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const [p, pp] of pairs) if (pp === out[i]) out.push(p!);
  }
  return out;
}

describe.skipIf(!cgroupsHere || !(await shouldRun(cgroupRuntime())))(
  'bwrap cell in its own cgroup',
  () => {
    let cell: Cell;
    beforeAll(async () => {
      cell = await cgroupRuntime().start(fx.spec());
    });
    afterAll(async () => {
      await cell?.stop();
    });

    it('puts every process of the cell in a cgroup with its limits, before it runs anything', async () => {
      await bashIn(() => cell)('true');
      const tree = treeOf(cell.pid!);
      expect(tree.length).toBeGreaterThanOrEqual(3);
      const pidsGroup = cgroupsOf(cell.pid!).get('pids') ?? cgroupsOf(cell.pid!).get('');
      expect(pidsGroup).toMatch(new RegExp(`/nanocell/${process.pid}-${cell.id}$`));
      for (const p of tree)
        expect(cgroupsOf(p).get('pids') ?? cgroupsOf(p).get(''), `pid ${p}`).toBe(pidsGroup);
      const v1 = fs.existsSync(`/sys/fs/cgroup/pids${pidsGroup}/pids.max`);
      const dir = (c: string) =>
        v1 ? `/sys/fs/cgroup/${c}${cgroupsOf(cell.pid!).get(c)}` : `/sys/fs/cgroup${pidsGroup}`;
      expect(fs.readFileSync(`${dir('pids')}/pids.max`, 'utf8').trim()).toBe(
        String(CELL_LIMITS.pids),
      );
      const memFile = v1 ? 'memory.limit_in_bytes' : 'memory.max';
      expect(Number(fs.readFileSync(`${dir('memory')}/${memFile}`, 'utf8'))).toBe(
        CELL_LIMITS.memoryMb * 1024 * 1024,
      );
    });

    it('removes the cgroup when the cell stops', async () => {
      const group = cgroupsOf(cell.pid!).get('pids')!;
      await cell.stop();
      expect(fs.existsSync(`/sys/fs/cgroup/pids${group}`)).toBe(false);
    });
  },
);

const rlimitRuntime = () =>
  new BwrapRuntime({ rootfs: config.cellRootfs, limiter: new CgroupLimiter({ force: 'rlimit' }) });

describe.skipIf(!(await shouldRun(rlimitRuntime())))(
  'bwrap cell with rlimits only (no cgroup available)',
  () => {
    let cell: Cell;
    beforeAll(async () => {
      cell = await rlimitRuntime().start(fx.spec());
    });
    afterAll(async () => {
      await cell?.stop();
    });

    it('says what it cannot enforce', async () => {
      const st = await rlimitRuntime().status();
      expect(st.ok).toBe(true);
      expect(st.detail).toContain('limits by rlimits');
      expect(st.notEnforced).toContain('cpu limit');
    });

    it('still contains a fork bomb', async () => {
      const bomb =
        "const { spawn } = require('child_process'); const errors = new Set(); let n = 0; for (let i = 0; i < 400; i++) { try { const c = spawn('sleep', ['5'], { stdio: 'ignore' }); c.on('error', (e) => errors.add(e.code)); c.on('spawn', () => n++); } catch (e) { errors.add(e.code); } } setTimeout(() => { console.log(JSON.stringify({ n, errors: [...errors] })); process.exit(0); }, 500);";
      const r = await bashIn(() => cell)(`node -e "${bomb}"`, 20_000);
      const result = JSON.parse(/\{.*\}/.exec(r.output)?.[0] ?? '{}') as {
        n?: number;
        errors?: string[];
      };
      expect(result.errors, r.output).toContain('EAGAIN');
      expect(result.n).toBeLessThan(400);
    });
  },
);
