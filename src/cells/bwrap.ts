import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
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

const EXTRA_MOUNT_ROOT = '/workspace/extra';

export interface BwrapOptions {
  /** Root filesystem the cell sees as `/` (read-only). */
  rootfs: string;
  startTimeoutMs?: number;
  bwrapPath?: string;
}

/**
 * Linux namespaces through bubblewrap: no daemon, a few ms to start. Every namespace is
 * unshared (so no network but a private loopback), the root is the project's cell root
 * filesystem read-only, and the process runs as a non-zero uid with no capabilities.
 */
export class BwrapRuntime implements CellRuntime {
  readonly name = 'bwrap';
  private readonly bwrap: string;

  constructor(private readonly options: BwrapOptions) {
    this.bwrap = options.bwrapPath ?? 'bwrap';
  }

  /**
   * Running as root, bwrap maps the cell's uid 10001 to host root, so files the cell writes
   * belong to the host user and the cell still holds no capability. Otherwise the cell runs
   * as the host user's own uid.
   */
  cellUser(): CellUser {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    return uid === 0
      ? { uid: ROOT_HOST_CELL_ID, gid: ROOT_HOST_CELL_ID, hostOwnerUid: 0, hostOwnerGid: 0 }
      : { uid, gid, hostOwnerUid: uid, hostOwnerGid: gid };
  }

  async status(): Promise<RuntimeStatus> {
    const version = spawnSync(this.bwrap, ['--version'], { encoding: 'utf8' });
    if (version.error) {
      return {
        ok: false,
        detail: 'bwrap not found: install it with `sudo apt-get install -y bubblewrap`',
      };
    }
    if (!fs.existsSync(`${this.options.rootfs}/usr/bin/node`)) {
      return {
        ok: false,
        detail: `cell root filesystem missing at ${this.options.rootfs}: run scripts/build-cell-image.sh --rootfs-only`,
      };
    }
    const probe = spawnSync(this.bwrap, [...this.baseArgs(this.cellUser()), '--', '/bin/true'], {
      encoding: 'utf8',
      env: {},
      timeout: 10_000,
    });
    if (probe.status !== 0) {
      return {
        ok: false,
        detail: `bwrap cannot create a sandbox here: ${(probe.stderr || probe.error?.message || '').trim()} (user namespaces may be disabled: sysctl kernel.unprivileged_userns_clone=1)`,
      };
    }
    return { ok: true, detail: version.stdout.trim() };
  }

  async start(spec: CellSpec, signal?: AbortSignal): Promise<Cell> {
    const st = await this.status();
    if (!st.ok) throw new RuntimeUnavailableError(st.detail);
    const user = this.cellUser();
    for (const m of spec.mounts) {
      if (!m.readOnly) ensureOwner(m.hostPath, user.hostOwnerUid, user.hostOwnerGid);
    }
    const args = [...this.baseArgs(user)];
    // Extra mounts need mount points the read-only root does not have: a tmpfs holds them,
    // made read-only again once they are bound.
    const extras = spec.mounts.some((m) => m.cellPath.startsWith(`${EXTRA_MOUNT_ROOT}/`));
    if (extras) args.push('--tmpfs', EXTRA_MOUNT_ROOT);
    for (const m of spec.mounts) {
      args.push(m.readOnly ? '--ro-bind' : '--bind', m.hostPath, m.cellPath);
    }
    if (extras) args.push('--remount-ro', EXTRA_MOUNT_ROOT);
    // A tmpfs under the read-only root gives the tool server a mount point of its own.
    args.push('--tmpfs', path.posix.dirname(TOOL_SERVER_CELL_PATH));
    args.push('--ro-bind', spec.toolServerPath, TOOL_SERVER_CELL_PATH);
    args.push('--chdir', spec.workdir);
    args.push('--', '/usr/bin/node', TOOL_SERVER_CELL_PATH);
    const id = `nanocell-${spec.groupName}-${crypto.randomBytes(3).toString('hex')}`;
    // A clean environment: bwrap's own process is pid 1's parent image, and /proc/1/environ
    // inside the cell would show whatever we gave it. Only the allowlist goes in.
    const child = spawn(this.bwrap, args, { env: spec.env, stdio: ['pipe', 'pipe', 'pipe'] });
    return StdioCell.attach(id, child, {
      cleanup: async () => {},
      limits: spec.limits,
      startTimeoutMs: this.options.startTimeoutMs ?? 15_000,
      signal,
    });
  }

  private baseArgs(user: CellUser): string[] {
    return [
      '--unshare-all',
      '--unshare-user',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--uid',
      String(user.uid),
      '--gid',
      String(user.gid),
      '--hostname',
      'cell',
      '--ro-bind',
      this.options.rootfs,
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/home/cell',
    ];
  }
}
