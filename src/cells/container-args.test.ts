import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CellSpec } from './cell-runtime.js';
import {
  bindMount,
  containerRunArgs,
  forceRemoveArgs,
  orphanIds,
  orphanNames,
} from './container-args.js';
import { GvisorRuntime } from './gvisor.js';

const spec: CellSpec = {
  groupName: 'family',
  mounts: [
    { hostPath: '/data/groups/family', cellPath: '/workspace/group', readOnly: false },
    { hostPath: '/data/docs', cellPath: '/workspace/extra/docs', readOnly: true },
  ],
  env: { PATH: '/usr/bin:/bin', TZ: 'Europe/Paris' },
  workdir: '/workspace/group',
  toolServerPath: '/repo/dist/cells/tool-server.js',
  limits: { memoryMb: 1024, pids: 256, cpus: 1.5, callTimeoutMs: 1000, maxOutputBytes: 100 },
  network: { mode: 'none' },
};
const user = { uid: 10001, gid: 10001, hostOwnerUid: 10001, hostOwnerGid: 10001 };
const after = (args: string[], flag: string) =>
  args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));

describe('containerRunArgs', () => {
  const args = containerRunArgs({
    name: 'nanocell-family-abc',
    image: 'img:1',
    installId: 'i1',
    user,
    spec,
    seccompProfile: '/tmp/nanocell-seccomp-x/seccomp.json',
  });

  it.each([
    ['--network', ['none']],
    ['--log-driver', ['none']],
    ['--ipc', ['private']],
    ['--cap-drop', ['ALL']],
    ['--security-opt', ['no-new-privileges', 'seccomp=/tmp/nanocell-seccomp-x/seccomp.json']],
    ['--user', ['10001:10001']],
    ['--pids-limit', ['256']],
    ['--memory', ['1024m']],
    ['--memory-swap', ['1024m']],
    ['--cpus', ['1.5']],
    ['--workdir', ['/workspace/group']],
    ['--env', ['PATH=/usr/bin:/bin', 'TZ=Europe/Paris']],
  ])('sets %s', (flag, expected) => {
    expect(after(args, flag)).toEqual(expected);
  });

  it('is read-only, interactive, removed on exit, with an init, and labelled for orphan removal', () => {
    for (const f of ['--read-only', '-i', '--rm', '--init']) expect(args).toContain(f);
    expect(after(args, '--label')).toEqual([
      'nanocell.install=i1',
      'nanocell.group=family',
      `nanocell.owner-pid=${process.pid}`,
    ]);
  });

  it('mounts only the grant and the tool server, read-only where asked', () => {
    expect(after(args, '--mount')).toEqual([
      'type=bind,source=/repo/dist/cells/tool-server.js,target=/opt/nanocell/tool-server.mjs,readonly',
      'type=bind,source=/data/groups/family,target=/workspace/group',
      'type=bind,source=/data/docs,target=/workspace/extra/docs,readonly',
    ]);
    expect(args.slice(-4, -1)).toEqual(['img:1', '/bin/bash', '-c']);
    expect(args.at(-1)).toMatch(
      /ulimit -f .* && exec \/usr\/bin\/node \/opt\/nanocell\/tool-server\.mjs --own-pid-namespace$/,
    );
  });

  it('with a tool socket, mounts its directory read-only, names it to the tool server, and leaves stdin closed', () => {
    const s = containerRunArgs({
      name: 'n',
      image: 'i',
      installId: 'x',
      user,
      spec,
      seccompProfile: '/p.json',
      toolSocketDir: '/tmp/nanocell-tool-abc',
    });
    expect(s).not.toContain('-i');
    expect(after(s, '--mount')).toContain(
      'type=bind,source=/tmp/nanocell-tool-abc,target=/run/nanocell-tool,readonly',
    );
    expect(after(s, '--env')).toContain('NANOCELL_TOOL_SOCKET=/run/nanocell-tool/tool.sock');
  });

  it('never uses a privileged or host-sharing flag', () => {
    const joined = args.join(' ');
    for (const bad of ['--privileged', 'host', 'unconfined', '--cap-add', 'SYS_ADMIN']) {
      expect(joined).not.toContain(bad);
    }
  });

  it('takes engine flags, a separate host pids limit and podman-style tmpfs ownership', () => {
    const g = containerRunArgs({
      name: 'n',
      image: 'i',
      installId: 'x',
      user,
      spec,
      seccompProfile: '/p.json',
      engineArgs: ['--runtime', 'runsc'],
      hostPidsLimit: 4352,
      tmpfsOwnerOptions: false,
    });
    expect(after(g, '--runtime')).toEqual(['runsc']);
    expect(after(g, '--pids-limit')).toEqual(['4352']);
    expect(after(g, '--tmpfs')).toContain('/home/cell:rw,nosuid,nodev,size=64m,U');
  });

  it('refuses a mount path with a comma, which --mount would split', () => {
    expect(() => bindMount('/a,b', '/x', true)).toThrow(/comma/);
  });
});

describe('orphan detection', () => {
  const alive = new Set([100, 200]);
  const isAlive = (pid: number) => alive.has(pid);

  it.each([
    ['abc 100', []],
    ['abc 999', ['abc']],
    ['abc <no value>', ['abc']],
    ['abc', ['abc']],
    [`abc ${process.pid}`, []],
    ['a 100\nb 999\n\nc 200', ['b']],
  ])('containers %j -> %j', (ps, expected) => {
    expect(orphanIds(ps, isAlive)).toEqual(expected);
  });

  it.each([
    ['nanocell-i1-100-main-abc123', []],
    ['nanocell-i1-999-main-abc123', ['nanocell-i1-999-main-abc123']],
    ['nanocell-other-999-main-abc123', []],
    ['unrelated', []],
  ])('names %j -> %j', (listing, expected) => {
    expect(orphanNames(listing, 'i1', isAlive)).toEqual(expected);
  });

  it('removes podman containers without its 10 s stop wait', () => {
    expect(forceRemoveArgs('/usr/bin/podman')).toEqual(['rm', '-f', '-t', '0']);
    expect(forceRemoveArgs('docker')).toEqual(['rm', '-f']);
  });
});

describe('GvisorRuntime.status', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  /** A docker CLI that prints a fixed `docker info` line and finds every image. */
  function fakeDocker(runtimes: object): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-fake-docker-'));
    dirs.push(dir);
    const bin = path.join(dir, 'docker');
    const info = `20.10.24|["name=seccomp,profile=default"]|${JSON.stringify(runtimes)}|true|true|true|true`;
    fs.writeFileSync(bin, `#!/bin/sh\n[ "$1" = info ] && echo '${info}'\nexit 0\n`, {
      mode: 0o755,
    });
    return bin;
  }
  const status = (runtimes: object) =>
    new GvisorRuntime({ image: 'img', installId: 'x', dockerPath: fakeDocker(runtimes) }).status();

  it('says how to install and declare runsc when dockerd does not know it', async () => {
    const st = await status({ runc: { path: 'runc' } });
    expect(st.ok).toBe(false);
    expect(st.detail).toContain('apt-get install -y runsc');
    expect(st.detail).toContain('kill -HUP');
  });

  it('refuses a runsc declared without --network=none, quoting the error it would cause', async () => {
    const st = await status({ runsc: { path: '/bin/sh' } });
    expect(st.ok).toBe(false);
    expect(st.detail).toContain('cannot run with network enabled in root network namespace');
  });

  it('works with runsc declared with --network=none, and says what it enforces', async () => {
    const st = await status({ runsc: { path: '/bin/sh', runtimeArgs: ['--network=none'] } });
    expect(st.ok).toBe(true);
    expect(st.enforced?.join(' ')).toContain('gVisor');
  });

  it('counts our seccomp profile as enforced only when runsc applies it (--oci-seccomp)', async () => {
    const without = await status({ runsc: { path: '/bin/sh', runtimeArgs: ['--network=none'] } });
    expect(without.notEnforced).toContain(
      'nanocell seccomp profile (runsc runs without --oci-seccomp)',
    );
    const withIt = await status({
      runsc: { path: '/bin/sh', runtimeArgs: ['--network=none', '--oci-seccomp'] },
    });
    expect(withIt.enforced?.join(' ')).toContain('seccomp (nanocell profile');
    expect(withIt.notEnforced?.join(' ')).not.toContain('seccomp');
  });
});
