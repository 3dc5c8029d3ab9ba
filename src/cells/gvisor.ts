import fs from 'node:fs';
import type { CellSpec } from './cell-runtime.js';
import { SECCOMP_ENFORCED, containerEnforcement } from './docker.js';
import { DockerRuntime, type DaemonInfo, type DockerOptions } from './docker.js';

export interface GvisorOptions extends DockerOptions {
  /** The name dockerd knows gVisor's runtime by (daemon.json "runtimes"). */
  runtime?: string;
}

const GVISOR_HOST_PIDS_BASE = 256;
const GVISOR_HOST_PIDS_PER_PROCESS = 16;

const SETUP_HINT =
  'scripts/setup.sh installs it (`apt-get install -y runsc`), declares it in /etc/docker/daemon.json as {"runtimes":{"runsc":{"path":"/usr/bin/runsc","runtimeArgs":["--network=none","--oci-seccomp"]}}} and reloads dockerd (`kill -HUP $(cat /var/run/docker.pid)`)';

/**
 * Docker with gVisor's `runsc` as the OCI runtime: the cell's syscalls are served by gVisor's
 * user-space kernel, not the host's, on top of every docker flag. dockerd must declare runsc
 * with `--network=none`: with a network, runsc refuses to start in the root network namespace
 * ("cannot run with network enabled in root network namespace"), and cells have none anyway.
 */
export class GvisorRuntime extends DockerRuntime {
  override readonly name: string = 'gvisor';
  private readonly runtime: string;

  constructor(options: GvisorOptions) {
    super(options);
    this.runtime = options.runtime ?? 'runsc';
  }

  /** runsc does not let a sandbox connect to a host unix socket: the tool server keeps stdio. */
  protected override usesToolSocket(): boolean {
    return false;
  }

  /** runsc runs every sandbox with `--network=none` of its own; a shared namespace buys nothing. */
  protected override sharesNetns(): boolean {
    return false;
  }

  /** runsc places its sandbox's cgroups itself; left to it. */
  protected override cgroupParent(): string | undefined {
    return undefined;
  }

  /**
   * The host's pids cgroup counts gVisor's own threads and stub processes (about 6 per
   * process in the cell, 50 at rest, more while many exit at once); at the cell's pids limit, gVisor would crash instead of
   * failing a fork. So the cell's limit is RLIMIT_NPROC, which gVisor's kernel enforces on the
   * cell's processes alone (a fork past it fails with EAGAIN), and the host limit is a
   * backstop sized for gVisor.
   */
  protected override engineOptions(spec: CellSpec) {
    const pids = spec.limits.pids;
    return {
      engineArgs: ['--runtime', this.runtime, '--ulimit', `nproc=${pids}:${pids}`],
      hostPidsLimit: GVISOR_HOST_PIDS_BASE + GVISOR_HOST_PIDS_PER_PROCESS * pids,
    };
  }

  protected override seccompKernel(): 'gvisor' {
    return 'gvisor';
  }

  protected override checkDaemon(info: DaemonInfo): string | undefined {
    const rt = info.runtimes[this.runtime];
    if (!rt) {
      return `docker ${info.version} has no "${this.runtime}" runtime: ${SETUP_HINT}`;
    }
    if (rt.path?.startsWith('/') && !fs.existsSync(rt.path)) {
      return `dockerd declares ${this.runtime} at ${rt.path}, which does not exist: ${SETUP_HINT}`;
    }
    if (!(rt.runtimeArgs ?? []).includes('--network=none')) {
      return `dockerd declares ${this.runtime} without "--network=none" in runtimeArgs, so gVisor cannot start ("cannot run with network enabled in root network namespace"): ${SETUP_HINT}`;
    }
    return undefined;
  }

  protected override describe(info: DaemonInfo) {
    const { enforced, notEnforced } = containerEnforcement(info);
    const ociSeccomp = (info.runtimes[this.runtime]?.runtimeArgs ?? []).includes('--oci-seccomp');
    const gvisorLimits = enforced.map((e) =>
      e === 'pids limit'
        ? "pids limit (RLIMIT_NPROC in gVisor's kernel)"
        : e === 'memory limit'
          ? 'memory limit (past it the whole cell is killed)'
          : e,
    );
    return {
      detail: `docker ${info.version} with gVisor (${this.runtime}), image ${this.options.image}`,
      enforced: [
        ...gvisorLimits,
        'gVisor user-space kernel (syscalls never reach the host kernel directly)',
        ...(ociSeccomp ? [SECCOMP_ENFORCED] : []),
      ],
      // runsc applies a container's seccomp profile only with --oci-seccomp; without it
      // gVisor's kernel answers every syscall itself (netlink and NUMA calls included).
      notEnforced: [
        ...notEnforced,
        ...(ociSeccomp ? [] : ['nanocell seccomp profile (runsc runs without --oci-seccomp)']),
      ],
    };
  }
}
