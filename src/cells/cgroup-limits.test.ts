import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CgroupLimiter,
  installCgroupName,
  MIN_ADDRESS_SPACE_MB,
  ownV1Paths,
} from './cgroup-limits.js';

const limits = { memoryMb: 256, pids: 64, cpus: 0.5 };
const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

/** A directory shaped like cgroupfs: the files the limiter looks for, as plain files. */
function fakeCgroupRoot(layout: 'v1' | 'v2' | 'none'): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-cgroup-'));
  temps.push(root);
  if (layout === 'v2') {
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), '');
  } else if (layout === 'v1') {
    for (const c of ['memory', 'pids', 'cpu']) {
      fs.mkdirSync(path.join(root, c, 'svc'), { recursive: true });
      fs.writeFileSync(path.join(root, c, 'cgroup.procs'), '');
    }
  }
  return root;
}

const read = (p: string) => fs.readFileSync(p, 'utf8');

describe('ownV1Paths', () => {
  it.each([
    [
      '4:memory:/svc/a\n8:pids:/\n1:cpu,cpuacct:/x',
      { memory: '/svc/a', pids: '/', cpu: '/x', cpuacct: '/x' },
    ],
    ['0::/user.slice\n', {}],
    ['', {}],
  ])('reads %j', (text, expected) => {
    expect(Object.fromEntries(ownV1Paths(text))).toEqual(expected);
  });
});

describe('CgroupLimiter on a fake cgroupfs', () => {
  it('plans cgroup v1 groups nested under this process’s own groups', () => {
    const root = fakeCgroupRoot('v1');
    const limiter = new CgroupLimiter({
      root,
      selfCgroup: '4:memory:/svc\n8:pids:/svc\n1:cpu:/svc\n',
    });
    const plan = limiter.plan();
    expect(plan.mechanism).toBe('cgroup-v1');
    expect(plan.enforced.sort()).toEqual(['cpu', 'memory', 'pids']);
    expect(plan.notEnforced).toEqual([]);
    expect(fs.readdirSync(path.join(root, 'memory', 'svc', 'nanocell'))).toEqual([]);
  });

  it('writes v1 memory, swap, pids and cpu limits and removes the group on release', async () => {
    const root = fakeCgroupRoot('v1');
    const limiter = new CgroupLimiter({
      root,
      selfCgroup: '4:memory:/svc\n8:pids:/svc\n1:cpu:/svc\n',
    });
    const plan = limiter.plan();
    const handle = limiter.prepare('cell-1', limits, plan, 0);
    const mem = path.join(root, 'memory', 'svc', 'nanocell', 'cell-1');
    expect(read(path.join(mem, 'memory.limit_in_bytes'))).toBe(String(256 * 1024 * 1024));
    expect(read(path.join(root, 'pids', 'svc', 'nanocell', 'cell-1', 'pids.max'))).toBe('64');
    const cpu = path.join(root, 'cpu', 'svc', 'nanocell', 'cell-1');
    expect(read(path.join(cpu, 'cpu.cfs_quota_us'))).toBe('50000');
    expect(read(path.join(cpu, 'cpu.cfs_period_us'))).toBe('100000');
    expect(handle.wrapper).toEqual([]);
    fs.writeFileSync(
      path.join(mem, 'memory.oom_control'),
      'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    );
    expect(handle.oomKills()).toBe(2);
    await handle.release();
    expect(fs.existsSync(mem)).toBe(false);
    expect(fs.existsSync(cpu)).toBe(false);
  });

  it('plans cgroup v2 under <root>/nanocell and enables the controllers on the way down', () => {
    const root = fakeCgroupRoot('v2');
    const limiter = new CgroupLimiter({ root });
    const plan = limiter.plan();
    expect(plan.mechanism).toBe('cgroup-v2');
    expect(plan.enforced.sort()).toEqual(['cpu', 'memory', 'pids']);
    expect(read(path.join(root, 'cgroup.subtree_control'))).toBe('+memory +pids +cpu');
    expect(read(path.join(root, 'nanocell', 'cgroup.subtree_control'))).toBe('+memory +pids +cpu');
  });

  it("puts each install's cells under that install's own parent", () => {
    const root = fakeCgroupRoot('v2');
    const a = new CgroupLimiter({ root, parentName: installCgroupName('install-a') });
    const b = new CgroupLimiter({ root, parentName: installCgroupName('install-b') });
    a.prepare('1-cell', { memoryMb: 64, pids: 10, cpus: 1 }, a.plan(), 0);
    b.prepare('2-cell', { memoryMb: 64, pids: 10, cpus: 1 }, b.plan(), 0);
    expect(fs.existsSync(path.join(root, 'nanocell-install_a', '1-cell'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'nanocell-install_b', '2-cell'))).toBe(true);
    // One install's clean-up never touches another's cells (their owners look gone here).
    expect(a.removeStale(() => false)).toBe(1);
    expect(fs.existsSync(path.join(root, 'nanocell-install_b', '2-cell'))).toBe(true);
    // At shutdown an install's empty parent goes; one with a cell in it stays. (The kernel's
    // interface files go with a group; in this plain directory they are removed by hand.)
    fs.rmSync(path.join(root, 'nanocell-install_a', 'cgroup.subtree_control'));
    a.removeParents();
    b.removeParents();
    expect(fs.existsSync(path.join(root, 'nanocell-install_a'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'nanocell-install_b', '2-cell'))).toBe(true);
  });

  it('writes v2 limits with no swap', async () => {
    const root = fakeCgroupRoot('v2');
    const limiter = new CgroupLimiter({ root });
    const handle = limiter.prepare('c2', { memoryMb: 512, pids: 100, cpus: 2 }, limiter.plan(), 0);
    const dir = path.join(root, 'nanocell', 'c2');
    expect(read(path.join(dir, 'memory.max'))).toBe(String(512 * 1024 * 1024));
    expect(read(path.join(dir, 'pids.max'))).toBe('100');
    expect(read(path.join(dir, 'cpu.max'))).toBe('200000 100000');
    handle.attach([4242]);
    expect(read(path.join(dir, 'cgroup.procs'))).toBe('4242');
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), '');
    await handle.release();
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('falls back to rlimits, and says what is not enforced, when there is no cgroupfs', () => {
    const limiter = new CgroupLimiter({ root: fakeCgroupRoot('none'), countProcessesOf: () => 10 });
    const plan = limiter.plan();
    expect(plan.mechanism).toBe('rlimit');
    expect(plan.notEnforced).toContain('cpu');
    expect(plan.detail).toMatch(/no cgroup hierarchy/);
    const handle = limiter.prepare('c3', limits, plan, 1000);
    expect(handle.wrapper).toEqual([
      'prlimit',
      '--nproc=74:74',
      `--as=${MIN_ADDRESS_SPACE_MB * 1024 * 1024}:${MIN_ADDRESS_SPACE_MB * 1024 * 1024}`,
      '--',
    ]);
  });

  it('falls back to rlimits when the hierarchy is not writable', () => {
    const root = fakeCgroupRoot('v2');
    fs.writeFileSync(path.join(root, 'nanocell'), 'a file where the group should go');
    const plan = new CgroupLimiter({ root }).plan();
    expect(plan.mechanism).toBe('rlimit');
    expect(plan.detail).toMatch(/cannot create cgroup-v2 groups/);
  });

  it('removes the groups of owners that are gone, and keeps the others', () => {
    const root = fakeCgroupRoot('v2');
    const limiter = new CgroupLimiter({ root });
    const plan = limiter.plan();
    limiter.prepare('111-nanocell-a-000001', limits, plan, 0);
    limiter.prepare('222-nanocell-b-000002', limits, plan, 0);
    expect(limiter.removeStale((pid) => pid === 222)).toBe(1);
    expect(fs.readdirSync(path.join(root, 'nanocell')).filter((n) => /^\d/.test(n))).toEqual([
      '222-nanocell-b-000002',
    ]);
  });

  it('refuses a group name that could escape its parent', () => {
    const root = fakeCgroupRoot('v2');
    const limiter = new CgroupLimiter({ root });
    expect(() => limiter.prepare('../evil', limits, limiter.plan(), 0)).toThrow(/bad cgroup name/);
  });
});

const realV1 =
  process.getuid?.() === 0 &&
  fs.existsSync('/sys/fs/cgroup/pids/cgroup.procs') &&
  !fs.existsSync('/sys/fs/cgroup/cgroup.controllers');

describe.skipIf(!realV1)('CgroupLimiter on this host’s cgroup v1', () => {
  it('moves a process into the cell group and kills what is left on release', async () => {
    const limiter = new CgroupLimiter();
    const plan = limiter.plan();
    expect(plan.mechanism).toBe('cgroup-v1');
    const handle = limiter.prepare(`test-${process.pid}`, limits, plan, 0);
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    const exited = new Promise<string | null>((resolve) =>
      child.on('exit', (_c, sig) => resolve(sig)),
    );
    handle.attach([child.pid!]);
    const groups = fs.readFileSync(`/proc/${child.pid}/cgroup`, 'utf8');
    expect(groups).toMatch(new RegExp(`pids:.*/nanocell/test-${process.pid}$`, 'm'));
    expect(groups).toMatch(new RegExp(`memory:.*/nanocell/test-${process.pid}$`, 'm'));
    await handle.release();
    expect(await exited).toBe('SIGKILL');
    expect(groups).toBeTruthy();
  });
});
