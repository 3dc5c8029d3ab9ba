import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import {
  TOOL_SERVER_CELL_PATH,
  type Cell,
  type CellRuntime,
  type CellSpec,
  type RuntimeStatus,
} from './cell-runtime.js';
import { defaultCellUser, ensureOwner, type CellUser } from './cell-user.js';
import {
  LABEL_GROUP,
  LABEL_INSTALL,
  LABEL_OWNER_PID,
  bindMount,
  orphanNames,
} from './container-args.js';
import { run } from './run-cli.js';
import { attachOrExplain } from './stdio-cell.js';

export interface AppleContainerOptions {
  image: string;
  installId: string;
  containerPath?: string;
  startTimeoutMs?: number;
}

/**
 * Apple's `container` CLI (macOS 26+, Apple silicon): every cell is its own lightweight Linux
 * VM. Written against the documented CLI (`container run` with `--network none`,
 * `--read-only`, `--cap-drop`, `--ulimit`, `--init`, `--mount`, `--tmpfs`); NOT TESTED ON
 * REAL HARDWARE: the contract suite drives it through a recording fake of the CLI.
 *
 * The CLI has no label filter for `list`, so a cell's name carries what orphan removal needs:
 * `nanocell-<install>-<owner pid>-<group>-<random>` (the name is also the container's id).
 */
export class AppleContainerRuntime implements CellRuntime {
  readonly name = 'apple-container';
  private readonly bin: string;

  constructor(private readonly options: AppleContainerOptions) {
    this.bin = options.containerPath ?? 'container';
  }

  cellUser(): CellUser {
    return defaultCellUser();
  }

  async status(): Promise<RuntimeStatus> {
    const sys = await run(this.bin, ['system', 'status']);
    if (sys.notFound) {
      return {
        ok: false,
        detail:
          "Apple `container` not found: it needs macOS 26 on Apple silicon and Apple's container package, then `container system start`",
      };
    }
    if (sys.code !== 0) {
      return {
        ok: false,
        detail: `Apple container services are not running (${firstLine(sys.stderr || sys.stdout)}): run \`container system start\``,
      };
    }
    const image = await run(this.bin, ['image', 'inspect', this.options.image]);
    if (image.code !== 0) {
      return {
        ok: false,
        detail: `the cell image ${this.options.image} is missing: build it with \`container build -t ${this.options.image} src/cells/image\``,
      };
    }
    return {
      ok: true,
      detail: `Apple container (${firstLine(sys.stdout) || 'running'}), image ${this.options.image}; not tested on real hardware`,
      enforced: [
        'one VM per cell',
        'no network',
        'read-only root',
        'non-root, no capabilities',
        'memory and cpu limits (VM size)',
        'pids limit (RLIMIT_NPROC)',
      ],
      notEnforced: ['no-new-privileges flag (not in the CLI)', 'seccomp (the VM is the boundary)'],
    };
  }

  async start(spec: CellSpec, signal?: AbortSignal): Promise<Cell> {
    const user = this.cellUser();
    for (const m of spec.mounts) {
      if (!m.readOnly) ensureOwner(m.hostPath, user.hostOwnerUid, user.hostOwnerGid);
    }
    const name = `nanocell-${this.options.installId}-${process.pid}-${spec.groupName}-${crypto.randomBytes(3).toString('hex')}`;
    const args = [
      'run',
      '--rm',
      '-i',
      '--init',
      '--name',
      name,
      '--label',
      `${LABEL_INSTALL}=${this.options.installId}`,
      '--label',
      `${LABEL_GROUP}=${spec.groupName}`,
      '--label',
      `${LABEL_OWNER_PID}=${process.pid}`,
      '--network',
      'none',
      '--read-only',
      '--cap-drop',
      'ALL',
      '--user',
      `${user.uid}:${user.gid}`,
      '--cpus',
      String(Math.max(1, Math.ceil(spec.limits.cpus))),
      '--memory',
      `${spec.limits.memoryMb}M`,
      '--ulimit',
      `nproc=${spec.limits.pids}:${spec.limits.pids}`,
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/home/cell',
      '--workdir',
      spec.workdir,
      '--mount',
      bindMount(spec.toolServerPath, TOOL_SERVER_CELL_PATH, true),
    ];
    for (const m of spec.mounts)
      args.push('--mount', bindMount(m.hostPath, m.cellPath, m.readOnly));
    for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
    args.push(this.options.image, '/usr/bin/node', TOOL_SERVER_CELL_PATH);
    const child = spawn(this.bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const remove = () => run(this.bin, ['delete', '--force', name]).then(() => undefined);
    return attachOrExplain(name, child, {
      remove,
      limits: spec.limits,
      // A VM boots: slower than a container.
      startTimeoutMs: this.options.startTimeoutMs ?? 120_000,
      signal,
      status: () => this.status(),
    });
  }

  removeOrphans(): number {
    const ls = spawnSync(this.bin, ['list', '--all', '--quiet'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    if (ls.status !== 0) return 0;
    const ids = orphanNames(ls.stdout, this.options.installId);
    if (ids.length > 0) spawnSync(this.bin, ['delete', '--force', ...ids], { timeout: 60_000 });
    return ids.length;
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
