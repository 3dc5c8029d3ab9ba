import fs from 'node:fs';
import type { Cell, CellSpec, RuntimeStatus } from './cell-runtime.js';
import { LABEL_OWNER_PID, removeOrphanContainers } from './container-args.js';
import {
  DockerRuntime,
  SECCOMP_ENFORCED,
  containerEnforcement,
  type DockerOptions,
  type PreparedCell,
} from './docker.js';
import { PodmanService } from './podman-service.js';
import { run } from './run-cli.js';
import { SpareContainers, type SpareContainer } from './spare-containers.js';

export interface PodmanOptions extends Omit<DockerOptions, 'dockerPath'> {
  podmanPath?: string;
  /**
   * The OCI runtime podman runs cells with. runc by default: Debian's podman 4.3 with crun
   * fails on cgroup v1 hosts.
   */
  ociRuntime?: string;
  /**
   * Cells start from spare containers through podman's API service (podman-service.ts,
   * spare-containers.ts); default false. Whoever turns it on calls close() when done.
   */
  spares?: boolean;
}

interface PodmanSpare extends SpareContainer {
  prepared: PreparedCell;
}

/** Debian's defaults exceed the hard limits of some hosts and the container fails to start. */
const ULIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

/**
 * Podman, daemonless, with the same flags as docker (container-args.ts), our seccomp profile
 * among them. As root the cell runs as uid 10001, as with docker; rootless, with
 * `--userns keep-id`, so the cell's uid is the host user's and its files belong to them
 * (without it they would belong to a subordinate uid the host user cannot manage).
 */
export class PodmanRuntime extends DockerRuntime {
  override readonly name: string = 'podman';
  private readonly ociRuntime: string;
  private readonly service: PodmanService | undefined;
  private readonly spares = new SpareContainers<PodmanSpare>();

  constructor(options: PodmanOptions) {
    super({ ...options, dockerPath: options.podmanPath ?? 'podman' });
    this.ociRuntime = options.ociRuntime ?? 'runc';
    if (options.spares) {
      this.service = new PodmanService({ podman: this.docker, ociRuntime: this.ociRuntime });
    }
  }

  /**
   * With spares on (issue 17): the group's spare container, created when its last cell
   * started, is started through the API service: one call instead of a podman process that
   * loads its state first (about half of a bare `podman run`). Without a spare for this spec,
   * or when the service is not up, `podman run` as before. Either way the group's next spare
   * is created in the background.
   */
  override async start(spec: CellSpec, signal?: AbortSignal): Promise<Cell> {
    const service = this.service;
    if (!service) return super.start(spec, signal);
    void service.ready();
    const key = JSON.stringify(spec);
    const spare = await this.spares.take(spec.groupName, key);
    const cell =
      (spare && (await this.startSpare(service, spare, spec, signal))) ??
      (await super.start(spec, signal));
    this.spares.refill(spec.groupName, key, () => this.createSpare(spec));
    return cell;
  }

  /** The spare started as the cell; undefined (spare removed) when the service cannot. */
  private async startSpare(
    service: PodmanService,
    spare: PodmanSpare,
    spec: CellSpec,
    signal: AbortSignal | undefined,
  ): Promise<Cell | undefined> {
    const attached = (await service.ready())
      ? await service.attachAndStart(spare.name).catch(() => undefined)
      : undefined;
    if (!attached) {
      await spare.prepared.remove(true);
      return undefined;
    }
    return this.attachCell(spare.prepared, attached, spec, signal);
  }

  /**
   * `podman create` with the arguments `podman run` would take for this spec, but `--rm`: a
   * spare's cell is removed by its stop (or as an orphan), so its exit code is still there to
   * say how it ended.
   */
  private async createSpare(spec: CellSpec): Promise<PodmanSpare | undefined> {
    const prepared = await this.prepareCell(spec);
    const args = ['create', ...prepared.args.slice(1).filter((a) => a !== '--rm')];
    const created = await run(this.docker, args, 60_000);
    if (created.code !== 0) {
      await prepared.remove(true);
      return undefined;
    }
    return { name: prepared.name, prepared, remove: () => prepared.remove(false) };
  }

  override async close(): Promise<void> {
    await this.spares.close();
    await this.service?.close();
    await super.close();
  }

  protected override engineOptions() {
    return { engineArgs: this.podmanArgs(), tmpfsOwnerOptions: false };
  }

  /**
   * Rootless podman on cgroup v1 has no cgroups to place; as root it takes a parent: a slice
   * under systemd's cgroup manager (its default where systemd runs), a path under cgroupfs,
   * which refuses slice names.
   */
  protected override cgroupParent(): string | undefined {
    if ((process.getuid?.() ?? 0) !== 0) return undefined;
    const slice = super.cgroupParent();
    if (!slice || fs.existsSync('/run/systemd/system')) return slice;
    return `/${slice.replace(/\.slice$/, '')}`;
  }

  protected override holderArgs(): string[] {
    return this.podmanArgs();
  }

  private podmanArgs(): string[] {
    const rootless = (process.getuid?.() ?? 0) !== 0;
    return ['--runtime', this.ociRuntime, ...ULIMITS, ...(rootless ? ['--userns', 'keep-id'] : [])];
  }

  override async status(): Promise<RuntimeStatus> {
    const info = await run(this.docker, [
      'info',
      '--format',
      '{{.Version.Version}}|{{.Host.Security.SECCOMPEnabled}}|{{.Host.CgroupsVersion}}|{{json .Host.CgroupControllers}}',
    ]);
    if (info.notFound) {
      return {
        ok: false,
        detail: 'podman not found: install it with `sudo apt-get install -y podman catatonit`',
      };
    }
    if (info.code !== 0) {
      return {
        ok: false,
        detail: `podman cannot run here: ${(info.stderr || '').trim().split('\n')[0]}`,
      };
    }
    const [version = '?', seccomp, cgroups = '?', controllersJson = '[]'] = info.stdout
      .trim()
      .split('|');
    const controllers = parseList(controllersJson);
    const image = await run(this.docker, ['image', 'exists', this.options.image]);
    if (image.code !== 0) {
      return {
        ok: false,
        detail: `podman ${version} is installed but the cell image ${this.options.image} is missing: run scripts/build-cell-image.sh`,
      };
    }
    // The OCI runtime and the ulimits fail only when a container starts: try one.
    const probe = await run(
      this.docker,
      ['run', '--rm', ...this.podmanArgs(), '--network', 'none', this.options.image, '/bin/true'],
      60_000,
    );
    if (probe.code !== 0) {
      return {
        ok: false,
        detail: `podman ${version} cannot start a cell with --runtime ${this.ociRuntime} (is it installed?): ${probe.stderr.trim().split('\n').pop() ?? ''}`,
      };
    }
    // Rootless podman on cgroup v1 cannot apply resource limits at all.
    const limits = cgroups === 'v2' || (process.getuid?.() ?? 0) === 0;
    const { enforced, notEnforced } = containerEnforcement({
      memoryLimit: limits && controllers.includes('memory'),
      swapLimit: limits && controllers.includes('memory'),
      pidsLimit: limits && controllers.includes('pids'),
      cpuQuota: limits && controllers.includes('cpu'),
    });
    return {
      ok: true,
      detail: `podman ${version} (${this.ociRuntime}, cgroup ${cgroups}), image ${this.options.image}`,
      enforced: [...enforced, ...(seccomp === 'true' ? [SECCOMP_ENFORCED] : [])],
      notEnforced: [...notEnforced, ...(seccomp === 'true' ? [] : ['seccomp'])],
    };
  }

  override removeOrphans(): number {
    this.removeStaleToolSockets();
    return removeOrphanContainers(
      this.docker,
      this.options.installId,
      `{{.ID}} {{index .Labels "${LABEL_OWNER_PID}"}}`,
    );
  }
}

function parseList(text: string): string[] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return []; // podman without the field: nothing known to be enforced.
  }
}
