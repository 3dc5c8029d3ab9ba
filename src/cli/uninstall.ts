import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, type Config } from '../config.js';
import { claimTag, cliEngine, tagsToRemove, type ImageEngine } from '../service/cell-images.js';
import {
  runTool,
  SystemdManager,
  LaunchdManager,
  type RunTool,
} from '../service/service-manager.js';
import { hostRecordedAlive } from './backup.js';
import { usageError, type CliCommand, type TextOut } from './command.js';
import { hostFile } from './start.js';

const USAGE = `usage: nanocell uninstall [--yes] [--purge]
  Remove what nanocell installed for this checkout: its service (nanocell service), this
  checkout's cell image tags in docker and podman (an image another checkout uses is kept),
  and the checkout's build/ and dist/. Without --yes it only lists what it would remove.
  Your data dir (groups, memory, history, audit log) and your config dir (policy,
  credentials, keys) are kept unless --purge; make a backup first (nanocell backup FILE).
  The checkout itself is yours to delete afterwards.
`;

const IMAGE_REPO = 'nanocell-cell';

export interface UninstallDeps {
  config: Config;
  out: TextOut;
  err: TextOut;
  repoRoot: string;
  platform: NodeJS.Platform;
  uid: number;
  homeDir: string;
  run: RunTool;
  engines: ImageEngine[];
  hostRunning(): boolean;
}

interface Step {
  what: string;
  act(): Promise<string>;
}

export async function uninstallCommand(args: string[], deps: UninstallDeps): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { yes: { type: 'boolean', short: 'y' }, purge: { type: 'boolean' } },
      allowPositionals: false,
    }));
  } catch (err) {
    return usageError(deps.err, USAGE, (err as Error).message);
  }
  if (deps.hostRunning()) {
    deps.err.write(
      'nanocell: nanocell is running on this data dir; stop it first (nanocell service stop, Ctrl-C or kill -TERM PID)\n',
    );
    return 1;
  }
  const steps = [...serviceSteps(deps), ...(await imageSteps(deps)), ...buildSteps(deps)];
  const { home, configDir } = deps.config;
  if (values.purge) {
    for (const dir of [home, configDir]) {
      if (fs.existsSync(dir)) steps.push(removeDir(dir, dir === home ? 'data dir' : 'config dir'));
    }
  }
  const kept = values.purge
    ? []
    : [
        { label: 'your data dir', dir: home },
        { label: 'your config dir', dir: configDir },
      ]
        .filter((k) => fs.existsSync(k.dir))
        .map((k) => `${k.label} ${k.dir}`);
  if (!values.yes) {
    deps.out.write(
      steps.length
        ? `nanocell uninstall would remove:\n${steps.map((s) => `  - ${s.what}\n`).join('')}`
        : 'nanocell uninstall: nothing installed to remove\n',
    );
    if (kept.length) deps.out.write(`and keep ${kept.join(' and ')} (--purge removes them)\n`);
    deps.out.write('Run again with --yes to do it.\n');
    return 0;
  }
  for (const step of steps) deps.out.write(`nanocell: ${await step.act()}\n`);
  if (kept.length) deps.out.write(`nanocell: kept ${kept.join(' and ')}\n`);
  deps.out.write(`nanocell: done; delete the checkout itself with: rm -rf ${deps.repoRoot}\n`);
  return 0;
}

function serviceSteps(deps: UninstallDeps): Step[] {
  const managers =
    deps.platform === 'linux'
      ? [
          new SystemdManager('nanocell', 'system', '/etc/systemd/system', deps.run),
          new SystemdManager(
            'nanocell',
            'user',
            path.join(deps.homeDir, '.config', 'systemd', 'user'),
            deps.run,
          ),
        ]
      : deps.platform === 'darwin'
        ? [
            new LaunchdManager(
              'nanocell',
              path.join(deps.homeDir, 'Library', 'LaunchAgents'),
              deps.uid,
              deps.run,
            ),
          ]
        : [];
  return managers
    .filter((m) => fs.existsSync(m.file))
    .map((m) => ({
      what: `the ${m.kind} ${m.file}`,
      act: async () => (await m.uninstall()).detail,
    }));
}

async function imageSteps(deps: UninstallDeps): Promise<Step[]> {
  const claim = claimTag(deps.repoRoot);
  const steps: Step[] = [];
  for (const engine of deps.engines) {
    if (!(await engine.available())) continue;
    const plan = tagsToRemove(await engine.tags(IMAGE_REPO), claim);
    if (!plan.remove.length) continue;
    const refs = plan.remove.map((t) => `${IMAGE_REPO}:${t}`);
    steps.push({
      what: `${engine.name} image tags ${refs.join(', ')}${plan.kept ? ` (the image stays: ${plan.kept})` : ''}`,
      act: async () => {
        const failed: string[] = [];
        for (const ref of refs) if (!(await engine.removeTag(ref))) failed.push(ref);
        return failed.length
          ? `${engine.name}: could not remove ${failed.join(', ')} (in use by a container? docker ps -a)`
          : `${engine.name}: removed ${refs.join(', ')}`;
      },
    });
  }
  return steps;
}

function buildSteps(deps: UninstallDeps): Step[] {
  return ['build', 'dist']
    .map((d) => path.join(deps.repoRoot, d))
    .filter((d) => fs.existsSync(d))
    .map((d) => removeDir(d, 'built files'));
}

function removeDir(dir: string, kind: string): Step {
  return {
    what: `${kind} ${dir}`,
    act: async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      return `removed ${kind} ${dir}`;
    },
  };
}

export const uninstallCli: CliCommand = {
  name: 'uninstall',
  summary:
    "remove this checkout's service, cell images and build (--yes; data kept unless --purge)",
  usage: USAGE,
  needs: 'config',
  run: (args, ctx) =>
    uninstallCommand(args, {
      config: ctx.config,
      out: ctx.out,
      err: ctx.err,
      repoRoot: PROJECT_ROOT,
      platform: process.platform,
      uid: process.getuid?.() ?? 0,
      homeDir: os.homedir(),
      run: runTool,
      engines: [cliEngine('docker'), cliEngine('podman')],
      hostRunning: () => hostRecordedAlive(hostFile(ctx.config.home)),
    }),
};
