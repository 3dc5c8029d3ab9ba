import { describe, expect, it } from 'vitest';
import type { RuntimeStatus } from '../cells/cell-runtime.js';
import { classifyRuntimes, runtimeSection, type HostFacts } from './doctor-runtimes.js';

const LINUX_ROOT: HostFacts = { platform: 'linux', isRoot: true };
const LINUX_USER: HostFacts = { platform: 'linux', isRoot: false };
const MAC: HostFacts = { platform: 'darwin', isRoot: false };

const broken = (detail: string): RuntimeStatus => ({ ok: false, detail });
const working: RuntimeStatus = { ok: true, detail: 'v1', enforced: ['no network'] };

describe('classifyRuntimes', () => {
  it.each([
    ['apple-container', broken('Apple `container` not found'), LINUX_ROOT, 'not on this platform'],
    [
      'docker-sandboxes',
      broken('`docker sandbox version` failed'),
      LINUX_USER,
      'not on this platform',
    ],
    ['bwrap', broken('bwrap not found'), MAC, 'not on this platform'],
    ['gvisor', broken('runsc not found'), MAC, 'not on this platform'],
    ['bwrap', broken('bwrap not found'), LINUX_ROOT, 'broken'],
    ['docker', broken('docker not found'), LINUX_ROOT, 'broken'],
    ['docker', broken('docker not found'), MAC, 'broken'],
    ['apple-container', broken('services are not running'), MAC, 'broken'],
    ['bwrap', working, LINUX_ROOT, 'available'],
    // Works where it "should not": what works is available, whatever the table says.
    ['docker-sandboxes', working, LINUX_USER, 'available'],
    ['some-new-runtime', broken('missing'), LINUX_ROOT, 'broken'],
  ] as const)('%s (%j) on %j is %s', (name, status, host, group) => {
    expect(classifyRuntimes([{ name, status }], host, undefined)[0]?.group).toBe(group);
  });

  it('says what a runtime not on this platform needs, instead of a fix', () => {
    const [v] = classifyRuntimes(
      [{ name: 'apple-container', status: broken('Apple `container` not found') }],
      LINUX_ROOT,
      undefined,
    );
    expect(v?.detail).toBe('needs macOS 26 on Apple silicon; this host is linux');
  });

  it.each([
    [
      'docker, a non-root user without the socket',
      'docker',
      'the docker daemon is not reachable (permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock): start it with `sudo systemctl start docker` or `sudo dockerd &`',
      LINUX_USER,
      'add it to the docker group (sudo usermod -aG docker $USER), then log in again',
      'systemctl',
    ],
    [
      'rootless podman without uidmap',
      'podman',
      'podman cannot run a cell: cannot find newuidmap: exec: "newuidmap": executable file not found in $PATH',
      LINUX_USER,
      'sudo apt-get install -y uidmap',
      undefined,
    ],
  ])('gives the right fix for %s', (_what, name, detail, host, fix, notFix) => {
    const [v] = classifyRuntimes([{ name, status: broken(detail) }], host, undefined);
    expect(v?.group).toBe('broken');
    expect(v?.detail).toContain(fix);
    if (notFix) expect(v?.detail).not.toContain(notFix);
  });

  it('keeps the daemon fix for root, for whom the socket is no problem', () => {
    const detail =
      'the docker daemon is not reachable (Cannot connect): start it with `sudo dockerd &`';
    const [v] = classifyRuntimes(
      [{ name: 'docker', status: broken(detail) }],
      LINUX_ROOT,
      undefined,
    );
    expect(v?.detail).toBe(detail);
  });

  it('tells a non-root user how bwrap gets the limits it cannot enforce without a cgroup', () => {
    const status: RuntimeStatus = {
      ok: true,
      detail: 'bubblewrap 0.8.0; limits by rlimits',
      notEnforced: ['cpu limit', 'memory per cell limit'],
    };
    const [user] = classifyRuntimes([{ name: 'bwrap', status }], LINUX_USER, 'bwrap');
    expect(user?.detail).toContain('NOT enforced: cpu limit, memory per cell limit');
    expect(user?.detail).toContain('Delegate=yes');
    const [root] = classifyRuntimes([{ name: 'bwrap', status }], LINUX_ROOT, 'bwrap');
    expect(root?.detail).not.toContain('Delegate=yes');
  });
});

describe('runtimeSection', () => {
  it('prints a heading per group in order, marks the selected one, and no FAIL for another platform', () => {
    const verdicts = classifyRuntimes(
      [
        { name: 'bwrap', status: working },
        { name: 'podman', status: broken('podman not found') },
        { name: 'apple-container', status: broken('not found') },
      ],
      LINUX_ROOT,
      'bwrap',
    );
    expect(runtimeSection(verdicts)).toBe(
      [
        'runtimes available:',
        'ok   runtime bwrap: v1; enforces: no network [selected]',
        'runtimes not on this platform (nothing to fix):',
        '--   runtime apple-container: needs macOS 26 on Apple silicon; this host is linux',
        'runtimes broken (how to fix):',
        'FAIL runtime podman: podman not found',
        '',
      ].join('\n'),
    );
  });
});
