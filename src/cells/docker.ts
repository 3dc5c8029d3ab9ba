import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import {
  RuntimeUnavailableError,
  TOOL_SERVER_CELL_PATH,
  type Cell,
  type CellRuntime,
  type CellSpec,
  type RuntimeStatus,
} from './cell-runtime.js';
import { ROOT_HOST_CELL_ID, ensureOwner, type CellUser } from './cell-user.js';
import { StdioCell } from './stdio-cell.js';

export interface DockerOptions {
  image: string;
  /** Every cell carries this label, so orphans of this install can be found and removed. */
  installId: string;
  startTimeoutMs?: number;
  dockerPath?: string;
}

/**
 * Docker containers from the project's own image: `docker run -i` with the tool server on
 * stdio, no network at all (`--network none`; an `--internal` network still reaches the
 * host's bridge addresses), a read-only root, no capabilities, no new privileges.
 */
export class DockerRuntime implements CellRuntime {
  readonly name = 'docker';
  private readonly docker: string;

  constructor(private readonly options: DockerOptions) {
    this.docker = options.dockerPath ?? 'docker';
  }

  /** The container's user is the host user, or uid 10001 when the host runs as root. */
  cellUser(): CellUser {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const id = uid === 0 ? ROOT_HOST_CELL_ID : uid;
    const g = uid === 0 ? ROOT_HOST_CELL_ID : gid;
    return { uid: id, gid: g, hostOwnerUid: id, hostOwnerGid: g };
  }

  async status(): Promise<RuntimeStatus> {
    const info = spawnSync(this.docker, ['version', '--format', '{{.Server.Version}}'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (info.error && (info.error as NodeJS.ErrnoException).code === 'ENOENT') {
      return {
        ok: false,
        detail: 'docker not found: install it with `sudo apt-get install -y docker.io`',
      };
    }
    if (info.status !== 0) {
      return {
        ok: false,
        detail: `the docker daemon is not reachable (${(info.stderr || '').trim().split('\n')[0]}): start it with \`sudo systemctl start docker\` or \`sudo dockerd &\``,
      };
    }
    const image = spawnSync(
      this.docker,
      ['image', 'inspect', '--format', '{{.Id}}', this.options.image],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    if (image.status !== 0) {
      return {
        ok: false,
        detail: `docker ${info.stdout.trim()} is up but the cell image ${this.options.image} is missing: run scripts/build-cell-image.sh`,
      };
    }
    return { ok: true, detail: `docker ${info.stdout.trim()}, image ${this.options.image}` };
  }

  async start(spec: CellSpec, signal?: AbortSignal): Promise<Cell> {
    const st = await this.status();
    if (!st.ok) throw new RuntimeUnavailableError(st.detail);
    const user = this.cellUser();
    for (const m of spec.mounts) {
      if (!m.readOnly) ensureOwner(m.hostPath, user.hostOwnerUid, user.hostOwnerGid);
    }
    const name = `nanocell-${spec.groupName}-${crypto.randomBytes(3).toString('hex')}`;
    const args = [
      'run',
      '-i',
      '--rm',
      // An init as pid 1 reaps the processes a killed command leaves behind.
      '--init',
      '--name',
      name,
      '--label',
      `nanocell.install=${this.options.installId}`,
      '--label',
      `nanocell.group=${spec.groupName}`,
      '--network',
      'none',
      '--read-only',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--user',
      `${user.uid}:${user.gid}`,
      '--pids-limit',
      String(spec.limits.pids),
      '--memory',
      `${spec.limits.memoryMb}m`,
      '--memory-swap',
      `${spec.limits.memoryMb}m`,
      '--cpus',
      String(spec.limits.cpus),
      '--tmpfs',
      '/tmp:rw,nosuid,nodev,size=256m',
      '--tmpfs',
      `/home/cell:rw,nosuid,nodev,size=64m,uid=${user.uid},gid=${user.gid},mode=0700`,
      '--workdir',
      spec.workdir,
      '--mount',
      `type=bind,source=${spec.toolServerPath},target=${TOOL_SERVER_CELL_PATH},readonly`,
    ];
    for (const m of spec.mounts) {
      args.push(
        '--mount',
        `type=bind,source=${m.hostPath},target=${m.cellPath}${m.readOnly ? ',readonly' : ''}`,
      );
    }
    for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
    args.push(this.options.image, '/usr/bin/node', TOOL_SERVER_CELL_PATH);
    const child = spawn(this.docker, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const remove = async () => {
      await new Promise<void>((resolve) => {
        const rm = spawn(this.docker, ['rm', '-f', name], { stdio: 'ignore' });
        rm.on('exit', () => resolve());
        rm.on('error', () => resolve());
      });
    };
    try {
      return await StdioCell.attach(name, child, {
        cleanup: remove,
        limits: spec.limits,
        startTimeoutMs: this.options.startTimeoutMs ?? 60_000,
        signal,
      });
    } catch (err) {
      await remove();
      throw err;
    }
  }

  /** Remove containers this install left behind (a crash, a kill -9). */
  removeOrphans(): number {
    const ls = spawnSync(
      this.docker,
      ['ps', '-aq', '--filter', `label=nanocell.install=${this.options.installId}`],
      { encoding: 'utf8', timeout: 10_000 },
    );
    const ids = ls.status === 0 ? ls.stdout.split('\n').filter(Boolean) : [];
    if (ids.length > 0) spawnSync(this.docker, ['rm', '-f', ...ids], { timeout: 30_000 });
    return ids.length;
  }
}
