import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launchdLabel, launchdPlist } from './launchd-plist.js';
import type { ServiceSpec } from './service-spec.js';
import { systemdUnit, type SystemdScope } from './systemd-unit.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a service manager's command line tool (systemctl, launchctl). */
export type RunTool = (file: string, args: string[]) => Promise<CommandResult>;

export const runTool: RunTool = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      const why = err && typeof err.code !== 'number' ? `${err.message}\n` : '';
      resolve({ code, stdout: String(stdout), stderr: `${String(stderr)}${why}` });
    });
  });

export type ServiceAction = 'start' | 'stop' | 'restart' | 'status';

/** The outcome of one step, written for the owner. */
export type StepResult = { ok: true; detail: string } | { ok: false; detail: string };

/** A platform's service manager, as `nanocell service` uses it. */
export interface ServiceManager {
  /** What kind of service this is, for messages: `systemd system unit`, `launchd agent`. */
  readonly kind: string;
  /** Where the unit or agent file goes. */
  readonly file: string;
  render(spec: ServiceSpec): string;
  /** Write the file (0644), reload, enable and start. */
  install(spec: ServiceSpec): Promise<StepResult>;
  /** Stop, disable, remove the file, reload. Data is never touched. */
  uninstall(): Promise<StepResult>;
  control(action: ServiceAction): Promise<CommandResult>;
}

const firstLine = (r: CommandResult) =>
  (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? `exit status ${r.code}`;

export class SystemdManager implements ServiceManager {
  readonly kind: string;
  readonly file: string;
  constructor(
    private readonly name: string,
    private readonly scope: SystemdScope,
    dir: string,
    private readonly run: RunTool = runTool,
  ) {
    this.kind = `systemd ${scope} unit`;
    this.file = path.join(dir, `${name}.service`);
  }

  render(spec: ServiceSpec): string {
    return systemdUnit(spec, this.scope);
  }

  private systemctl(...args: string[]): Promise<CommandResult> {
    return this.run('systemctl', this.scope === 'user' ? ['--user', ...args] : args);
  }

  async install(spec: ServiceSpec): Promise<StepResult> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, this.render(spec), { mode: 0o644 });
    const reload = await this.systemctl('daemon-reload');
    if (reload.code !== 0) {
      return {
        ok: false,
        detail:
          `wrote ${this.file}, but systemd did not reload (${firstLine(reload)}). ` +
          `Is systemd running here? Without it, run \`./nanocell start\` yourself.`,
      };
    }
    const enable = await this.systemctl('enable', '--now', `${this.name}.service`);
    if (enable.code !== 0) {
      return {
        ok: false,
        detail: `wrote ${this.file}, but \`systemctl enable --now\` failed: ${firstLine(enable)}`,
      };
    }
    const linger =
      this.scope === 'user'
        ? ' To keep it running while you are logged out: loginctl enable-linger $USER.'
        : '';
    return { ok: true, detail: `installed and started ${this.file}.${linger}` };
  }

  async uninstall(): Promise<StepResult> {
    if (!fs.existsSync(this.file)) return { ok: true, detail: `no service at ${this.file}` };
    const disable = await this.systemctl('disable', '--now', `${this.name}.service`);
    fs.rmSync(this.file);
    await this.systemctl('daemon-reload');
    const note = disable.code === 0 ? '' : ` (systemctl disable said: ${firstLine(disable)})`;
    return { ok: true, detail: `stopped and removed ${this.file}${note}` };
  }

  control(action: ServiceAction): Promise<CommandResult> {
    const args = action === 'status' ? ['status', '--no-pager'] : [action];
    return this.systemctl(...args, `${this.name}.service`);
  }
}

export class LaunchdManager implements ServiceManager {
  readonly kind = 'launchd agent';
  readonly file: string;
  private readonly label: string;
  constructor(
    name: string,
    dir: string,
    private readonly uid: number,
    private readonly run: RunTool = runTool,
  ) {
    this.label = launchdLabel(name);
    this.file = path.join(dir, `${this.label}.plist`);
  }

  render(spec: ServiceSpec): string {
    return launchdPlist(spec);
  }

  private get target(): string {
    return `gui/${this.uid}`;
  }

  async install(spec: ServiceSpec): Promise<StepResult> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, this.render(spec), { mode: 0o644 });
    // A previous version may be loaded; bootout fails harmlessly when it is not.
    await this.run('launchctl', ['bootout', `${this.target}/${this.label}`]);
    const boot = await this.run('launchctl', ['bootstrap', this.target, this.file]);
    if (boot.code !== 0) {
      return {
        ok: false,
        detail: `wrote ${this.file}, but launchctl bootstrap failed: ${firstLine(boot)}`,
      };
    }
    return { ok: true, detail: `installed and started ${this.file}` };
  }

  async uninstall(): Promise<StepResult> {
    if (!fs.existsSync(this.file)) return { ok: true, detail: `no service at ${this.file}` };
    await this.run('launchctl', ['bootout', `${this.target}/${this.label}`]);
    fs.rmSync(this.file);
    return { ok: true, detail: `stopped and removed ${this.file}` };
  }

  control(action: ServiceAction): Promise<CommandResult> {
    const service = `${this.target}/${this.label}`;
    switch (action) {
      case 'start':
        return this.run('launchctl', ['kickstart', service]);
      case 'restart':
        return this.run('launchctl', ['kickstart', '-k', service]);
      case 'stop':
        return this.run('launchctl', ['kill', 'SIGTERM', service]);
      case 'status':
        return this.run('launchctl', ['print', service]);
    }
  }
}
