import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import {
  RuntimeUnavailableError,
  type Cell,
  type CellRuntime,
  type CellSpec,
  type RuntimeStatus,
} from './cell-runtime.js';
import { defaultCellUser, ensureOwner, type CellUser } from './cell-user.js';
import { orphanNames } from './container-args.js';
import { run } from './run-cli.js';
import { StdioCell } from './stdio-cell.js';

export interface DockerSandboxesOptions {
  /** Template image of the sandboxes (the cell image, already in Docker Desktop). */
  image: string;
  installId: string;
  dockerPath?: string;
  startTimeoutMs?: number;
}

/**
 * Docker Sandboxes (`docker sandbox`, Docker Desktop 4.50+): each cell is a sandbox microVM
 * made with `docker sandbox create shell`, its network locked with the sandbox proxy's
 * default policy `deny`, and the tool server run in it with `docker sandbox exec -i`.
 * Written against the documented CLI; NOT TESTED ON REAL HARDWARE: the contract suite drives
 * it through a recording fake.
 *
 * Sandboxes mount a workspace at its host path, never elsewhere, so the cell's paths
 * (/workspace/group, /workspace/extra/...) are symbolic links to those host paths inside the
 * VM, and the tool server is read from its own folder, mounted read-only.
 */
export class DockerSandboxesRuntime implements CellRuntime {
  readonly name = 'docker-sandboxes';
  private readonly docker: string;

  constructor(private readonly options: DockerSandboxesOptions) {
    this.docker = options.dockerPath ?? 'docker';
  }

  cellUser(): CellUser {
    return defaultCellUser();
  }

  async status(): Promise<RuntimeStatus> {
    const version = await run(this.docker, ['sandbox', 'version']);
    if (version.notFound || version.code !== 0) {
      return {
        ok: false,
        detail:
          'Docker Sandboxes not available (`docker sandbox version` failed): it needs Docker Desktop 4.50 or later',
      };
    }
    return {
      ok: true,
      detail: `Docker Sandboxes ${version.stdout.trim().split('\n')[0] ?? ''}, template ${this.options.image}; not tested on real hardware`,
      enforced: [
        'one microVM per cell',
        'network: proxy policy deny',
        'non-root tool server',
        'read-only extra mounts',
      ],
      notEnforced: [
        'read-only root (the VM is writable)',
        'per-cell memory, pids and cpu limits (the VM has its own)',
        'no-new-privileges and capability flags (not in the CLI)',
        'mounts at their host paths (linked from /workspace)',
      ],
    };
  }

  async start(spec: CellSpec, signal?: AbortSignal): Promise<Cell> {
    const user = this.cellUser();
    for (const m of spec.mounts) {
      if (!m.readOnly) ensureOwner(m.hostPath, user.hostOwnerUid, user.hostOwnerGid);
    }
    const workspace = spec.mounts.find((m) => m.cellPath === spec.workdir) ?? spec.mounts[0];
    if (!workspace || workspace.readOnly) {
      throw new RuntimeUnavailableError(
        'Docker Sandboxes need a writable workspace mount at the working directory',
      );
    }
    const name = `nanocell-${this.options.installId}-${process.pid}-${spec.groupName}-${crypto.randomBytes(3).toString('hex')}`;
    const extras = spec.mounts
      .filter((m) => m !== workspace)
      .map((m) => (m.readOnly ? `${m.hostPath}:ro` : m.hostPath));
    const serverDir = path.dirname(spec.toolServerPath);
    const remove = () => run(this.docker, ['sandbox', 'rm', name]).then(() => undefined);
    const step = async (args: string[], what: string) => {
      const r = await run(this.docker, ['sandbox', ...args], 120_000);
      if (r.code !== 0) {
        await remove();
        throw new RuntimeUnavailableError(
          `Docker Sandboxes could not ${what}: ${r.stderr.trim().split('\n').pop() ?? ''}`,
        );
      }
    };
    await step(
      [
        'create',
        '--name',
        name,
        '--quiet',
        // No registry: the template must already be there.
        '--pull-template',
        'never',
        '--template',
        this.options.image,
        'shell',
        workspace.hostPath,
        ...extras,
        `${serverDir}:ro`,
      ],
      'create the sandbox',
    );
    await step(['network', 'proxy', name, '--policy', 'deny'], 'lock the sandbox network');
    const links = spec.mounts
      .filter((m) => m.cellPath !== m.hostPath)
      .map((m) => [m.hostPath, m.cellPath] as const);
    if (links.length > 0) {
      await step(
        ['exec', '--user', 'root', name, '/usr/bin/node', '-e', LINK_SCRIPT, JSON.stringify(links)],
        'link the cell paths',
      );
    }
    const args = [
      'sandbox',
      'exec',
      '-i',
      '--user',
      `${user.uid}:${user.gid}`,
      '--workdir',
      workspace.hostPath,
    ];
    for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
    args.push(name, '/usr/bin/node', spec.toolServerPath);
    const child = spawn(this.docker, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      return await StdioCell.attach(name, child, {
        cleanup: remove,
        limits: spec.limits,
        startTimeoutMs: this.options.startTimeoutMs ?? 120_000,
        signal,
      });
    } catch (err) {
      await remove();
      throw err;
    }
  }

  removeOrphans(): number {
    const ls = spawnSync(this.docker, ['sandbox', 'ls', '-q'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    if (ls.status !== 0) return 0;
    const ids = orphanNames(ls.stdout, this.options.installId);
    if (ids.length > 0) spawnSync(this.docker, ['sandbox', 'rm', ...ids], { timeout: 60_000 });
    return ids.length;
  }
}

/** Run as root in the sandbox: link each cell path to the host path it is mounted at. */
const LINK_SCRIPT = [
  "const fs = require('fs'), path = require('path');",
  'for (const [host, cell] of JSON.parse(process.argv[1])) {',
  '  fs.mkdirSync(path.dirname(cell), { recursive: true });',
  '  try { fs.rmdirSync(cell); } catch (e) { if (e.code !== "ENOENT") throw e; }',
  '  fs.symlinkSync(host, cell);',
  '}',
].join('\n');
