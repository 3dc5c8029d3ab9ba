import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeSettings, PROJECT_ROOT, type Config } from '../config.js';
import {
  LaunchdManager,
  runTool,
  SystemdManager,
  type RunTool,
  type ServiceManager,
} from '../service/service-manager.js';
import { SERVICE_NAME, type ServiceSpec } from '../service/service-spec.js';
import { usageError, type CliCommand, type TextOut } from './command.js';

const USAGE = `usage: nanocell service install [--print] [--user|--system] [--name NAME] [--dir DIR]
       nanocell service uninstall|start|stop|restart|status [--user|--system] [--name NAME] [--dir DIR]
  Run \`nanocell start\` as a service that starts at boot (or login) and restarts on failure.
  Linux: a systemd unit — a system unit in /etc/systemd/system as root, a user unit in
  ~/.config/systemd/user otherwise (--user/--system choose); logs go to the journal
  (journalctl -u NAME) and \`nanocell logs\`. The unit sets Delegate=yes, so bwrap cells get
  their memory, CPU and process limits. macOS: a launchd agent in ~/Library/LaunchAgents.
  --print writes the unit to stdout and changes nothing. --name (default nanocell) lets two
  data dirs run side by side; --dir puts the file elsewhere (packaging, tests).
  The service sees only the config file (${'~'}/.config/nanocell/config), not your shell's
  environment: install warns about settings it would miss.
  uninstall stops the service and removes the file; it never touches the data dir.
`;

const ACTIONS = ['install', 'uninstall', 'start', 'stop', 'restart', 'status'] as const;
type Action = (typeof ACTIONS)[number];

/** Settings the unit sets itself, so the service opens this data dir and config dir. */
const PINNED = ['NANOCELL_HOME', 'NANOCELL_CONFIG_DIR'];

export interface ServiceDeps {
  config: Config;
  out: TextOut;
  err: TextOut;
  platform: NodeJS.Platform;
  uid: number;
  homeDir: string;
  run: RunTool;
  /** Settings that come from the environment only (a service would not see them). */
  environmentOnly(): string[];
}

export async function serviceCommand(args: string[], deps: ServiceDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        print: { type: 'boolean' },
        user: { type: 'boolean' },
        system: { type: 'boolean' },
        name: { type: 'string' },
        dir: { type: 'string' },
      },
      allowPositionals: true,
    });
  } catch (err) {
    return usageError(deps.err, USAGE, (err as Error).message);
  }
  const [action, ...extra] = parsed.positionals;
  if (!action || !(ACTIONS as readonly string[]).includes(action)) {
    return usageError(deps.err, USAGE, `service needs one of: ${ACTIONS.join(', ')}`);
  }
  if (extra.length) return usageError(deps.err, USAGE, `unexpected argument "${extra[0]}"`);
  const { values } = parsed;
  if (values.user && values.system) {
    return usageError(deps.err, USAGE, '--user and --system exclude each other');
  }
  if (values.print && action !== 'install') {
    return usageError(deps.err, USAGE, '--print goes with install');
  }
  const name = values.name ?? 'nanocell';
  if (!SERVICE_NAME.test(name)) {
    return usageError(
      deps.err,
      USAGE,
      `--name "${name}" is not a service name: lower-case letters, digits and -, starting with a letter`,
    );
  }
  const manager = pickManager(deps, name, values);
  if (typeof manager === 'string') {
    deps.err.write(`nanocell: ${manager}\n`);
    return 1;
  }
  return runAction(action as Action, manager, name, values.print === true, deps);
}

function pickManager(
  deps: ServiceDeps,
  name: string,
  options: { user?: boolean; system?: boolean; dir?: string },
): ServiceManager | string {
  const dir = options.dir ? path.resolve(options.dir) : undefined;
  if (deps.platform === 'linux') {
    const scope = options.user
      ? 'user'
      : options.system
        ? 'system'
        : deps.uid === 0
          ? 'system'
          : 'user';
    const where =
      dir ??
      (scope === 'system'
        ? '/etc/systemd/system'
        : path.join(deps.homeDir, '.config', 'systemd', 'user'));
    return new SystemdManager(name, scope, where, deps.run);
  }
  if (deps.platform === 'darwin') {
    if (options.system) return 'on macOS the service is a launchd agent of your user (no --system)';
    const where = dir ?? path.join(deps.homeDir, 'Library', 'LaunchAgents');
    return new LaunchdManager(name, where, deps.uid, deps.run);
  }
  return `no service manager is supported on ${deps.platform}; run \`./nanocell start\` yourself (systemd on Linux and launchd on macOS are)`;
}

function spec(config: Config, name: string): ServiceSpec {
  const nodeDir = path.dirname(process.execPath);
  return {
    name,
    description: `nanocell personal assistant (${config.home})`,
    command: [path.join(PROJECT_ROOT, 'nanocell'), 'start'],
    workingDirectory: PROJECT_ROOT,
    environment: {
      NANOCELL_HOME: config.home,
      NANOCELL_CONFIG_DIR: config.configDir,
      // The unit starts with a bare PATH: keep this node and the usual system folders.
      PATH: [nodeDir, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
        .filter((d, i, all) => all.indexOf(d) === i)
        .join(':'),
    },
    logFile: path.join(config.home, 'service.log'),
  };
}

async function runAction(
  action: Action,
  manager: ServiceManager,
  name: string,
  print: boolean,
  deps: ServiceDeps,
): Promise<number> {
  if (action === 'install') {
    const unit = spec(deps.config, name);
    if (print) {
      deps.out.write(manager.render(unit));
      return 0;
    }
    const missed = deps.environmentOnly().filter((k) => !PINNED.includes(k));
    if (missed.length) {
      deps.err.write(
        `nanocell: warning: the service will not see ${missed.join(', ')}: they are set only in ` +
          `your environment. Put them in the config file: nanocell config set KEY VALUE\n`,
      );
    }
    const result = await manager.install(unit);
    (result.ok ? deps.out : deps.err).write(`nanocell: ${result.detail}\n`);
    return result.ok ? 0 : 1;
  }
  if (action === 'uninstall') {
    const result = await manager.uninstall();
    deps.out.write(`nanocell: ${result.detail}; the data dir ${deps.config.home} is kept\n`);
    return 0;
  }
  const result = await manager.control(action);
  deps.out.write(result.stdout);
  // systemctl status exits 3 for a stopped service: its output says so.
  if (result.code !== 0 && !(action === 'status' && result.code === 3)) {
    deps.err.write(
      result.stderr ||
        `nanocell: ${manager.kind} ${name}: ${action} failed (exit status ${result.code})\n`,
    );
  }
  return result.code === 0 ? 0 : 1;
}

export const serviceCli: CliCommand = {
  name: 'service',
  summary: 'run nanocell as a systemd (Linux) or launchd (macOS) service: install, status ...',
  usage: USAGE,
  needs: 'config',
  run: (args, ctx) =>
    serviceCommand(args, {
      config: ctx.config,
      out: ctx.out,
      err: ctx.err,
      platform: process.platform,
      uid: process.getuid?.() ?? 0,
      homeDir: os.homedir(),
      run: runTool,
      environmentOnly: () =>
        describeSettings()
          .settings.filter((s) => s.source === 'environment')
          .map((s) => s.key),
    }),
};
