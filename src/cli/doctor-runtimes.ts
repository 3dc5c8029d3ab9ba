import type { RuntimeStatus } from '../cells/cell-runtime.js';

/** Where a runtime stands on this host, as `doctor` groups them. */
export type RuntimeGroup = 'available' | 'not on this platform' | 'broken';

export interface RuntimeVerdict {
  name: string;
  group: RuntimeGroup;
  /** The runtime's own line, with the right fix for this host where it can be told. */
  detail: string;
  selected: boolean;
}

export interface HostFacts {
  platform: NodeJS.Platform;
  isRoot: boolean;
}

/** The platforms each runtime can work on at all; elsewhere a missing one is no fault. */
const PLATFORMS: Record<string, { on: NodeJS.Platform[]; needs: string }> = {
  bwrap: { on: ['linux'], needs: 'Linux namespaces' },
  docker: { on: ['linux', 'darwin', 'win32'], needs: 'a docker engine' },
  podman: { on: ['linux', 'darwin', 'win32'], needs: 'podman' },
  gvisor: { on: ['linux'], needs: 'Linux (gVisor runs only there)' },
  'apple-container': { on: ['darwin'], needs: 'macOS 26 on Apple silicon' },
  'docker-sandboxes': { on: ['darwin', 'win32'], needs: 'Docker Desktop on macOS or Windows' },
};

/**
 * Sort the runtimes into available, not on this platform (a macOS-only runtime on Linux:
 * nothing to fix) and broken (with how to fix it). Pure: the statuses are gathered elsewhere.
 */
export function classifyRuntimes(
  reports: ReadonlyArray<{ name: string; status: RuntimeStatus }>,
  host: HostFacts,
  selected: string | undefined,
): RuntimeVerdict[] {
  return reports.map(({ name, status }) => {
    const verdict = { name, selected: name === selected };
    if (status.ok) {
      return { ...verdict, group: 'available', detail: withLimitsHint(name, status, host) };
    }
    const platform = PLATFORMS[name];
    if (platform && !platform.on.includes(host.platform)) {
      return {
        ...verdict,
        group: 'not on this platform',
        detail: `needs ${platform.needs}; this host is ${host.platform}`,
      };
    }
    return { ...verdict, group: 'broken', detail: withFix(name, status.detail, host) };
  });
}

/** The fix a runtime's own message gets wrong for a non-root user. */
function withFix(name: string, detail: string, host: HostFacts): string {
  if (
    !host.isRoot &&
    (name === 'docker' || name === 'gvisor') &&
    /permission denied/i.test(detail)
  ) {
    const why = detail.replace(/: start it with .*$/, '');
    return `${why}: your user may not use the docker socket; add it to the docker group (sudo usermod -aG docker $USER), then log in again`;
  }
  if (name === 'podman' && /newuidmap|newgidmap|uidmap|subuid|subgid/i.test(detail)) {
    return `${detail}; rootless podman needs uidmap and subordinate ids: sudo apt-get install -y uidmap, and an entry for your user in /etc/subuid and /etc/subgid (sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER)`;
  }
  return detail;
}

/** bwrap without a cgroup of its own cannot limit a whole cell: say how to get one. */
function withLimitsHint(name: string, status: RuntimeStatus, host: HostFacts): string {
  const parts = [describeRuntime(status)];
  const cgroupLimits = status.notEnforced?.some((e) => /^(cpu|memory|pids)\b/.test(e));
  if (name === 'bwrap' && cgroupLimits && !host.isRoot) {
    parts.push(
      'to enforce them, give nanocell a delegated cgroup: run it as a systemd service with Delegate=yes (or systemd-run --user -p Delegate=yes ./nanocell start)',
    );
  }
  return parts.join('; ');
}

const HEADINGS: Record<RuntimeGroup, string> = {
  available: 'runtimes available:',
  'not on this platform': 'runtimes not on this platform (nothing to fix):',
  broken: 'runtimes broken (how to fix):',
};
const MARKS: Record<RuntimeGroup, string> = {
  available: 'ok  ',
  'not on this platform': '--  ',
  broken: 'FAIL',
};

/** doctor's runtime section: a heading per non-empty group, one line per runtime. */
export function runtimeSection(verdicts: RuntimeVerdict[]): string {
  let text = '';
  for (const group of Object.keys(HEADINGS) as RuntimeGroup[]) {
    const members = verdicts.filter((v) => v.group === group);
    if (!members.length) continue;
    text += `${HEADINGS[group]}\n`;
    for (const v of members) {
      text += `${MARKS[group]} runtime ${v.name}: ${v.detail}${v.selected ? ' [selected]' : ''}\n`;
    }
  }
  return text;
}

/** A runtime's line: what is wrong, or what it enforces here and what it does not. */
export function describeRuntime(status: RuntimeStatus): string {
  if (!status.ok) return status.detail;
  const parts = [status.detail];
  if (status.enforced?.length) parts.push(`enforces: ${status.enforced.join(', ')}`);
  if (status.notEnforced?.length) parts.push(`NOT enforced: ${status.notEnforced.join(', ')}`);
  return parts.join('; ');
}
