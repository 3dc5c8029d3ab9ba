import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import type { CliCommand, ConfigCommandContext } from './command.js';
import { hostFile } from './start.js';

export const BACKUP_USAGE = `usage: nanocell backup FILE [--with-config]
       nanocell restore FILE [--replace] [--with-config]
  backup   the store (SQLite's online backup: safe while nanocell runs), the group folders,
           the global folder and the audit log, into one tar file (0600). --with-config adds
           the owner's config dir (policy, credentials, audit key, config file): keep that
           file as safe as the keys in it.
  restore  into NANOCELL_HOME: refused when it already holds a store, unless --replace,
           which first moves what is there to NANOCELL_HOME/replaced-<time>/. --with-config
           also restores the config dir (refused when the backup has none).
  Stop \`nanocell start\` before a restore.
`;

/** What a backup holds, relative to the data dir (and `config/` for the config dir). */
const DATA_ENTRIES = ['groups', 'global', 'audit'];
const DB = 'nanocell.db';
const CONFIG = 'config';

export interface BackupDeps {
  home: string;
  configDir: string;
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  /** Is a host process running on this data dir (then restore is refused)? */
  hostRunning(): boolean;
}

export async function backupCommand(
  command: 'backup' | 'restore',
  args: string[],
  deps: BackupDeps,
): Promise<number> {
  const usage = (problem: string) => {
    deps.err.write(`nanocell: ${problem}\n${BACKUP_USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { 'with-config': { type: 'boolean' }, replace: { type: 'boolean' } },
      allowPositionals: true,
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length) return usage(`${command} takes one FILE`);
  const withConfig = parsed.values['with-config'] === true;
  if (command === 'backup') {
    if (parsed.values.replace) return usage('--replace is an option of restore');
    return backup(path.resolve(file), withConfig, deps);
  }
  return restore(path.resolve(file), withConfig, parsed.values.replace === true, deps);
}

async function backup(file: string, withConfig: boolean, deps: BackupDeps): Promise<number> {
  const dbFile = path.join(deps.home, DB);
  if (!fs.existsSync(dbFile)) {
    deps.err.write(`nanocell: nothing to back up: no store at ${dbFile}\n`);
    return 1;
  }
  if (fs.existsSync(file)) {
    deps.err.write(
      `nanocell: ${file} exists; choose a new file name (a backup never overwrites)\n`,
    );
    return 1;
  }
  const staging = fs.mkdtempSync(path.join(path.dirname(file), '.nanocell-backup-'));
  try {
    // The online backup: a consistent copy even while the host writes (WAL).
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      await db.backup(path.join(staging, DB));
    } finally {
      db.close();
    }
    const entries = DATA_ENTRIES.filter((e) => fs.existsSync(path.join(deps.home, e)));
    // tar stores symlinks as links (never follows what a cell planted in its folder).
    const tarArgs = ['-C', staging, DB, '-C', deps.home, ...entries];
    if (withConfig && !fs.existsSync(deps.configDir)) {
      deps.err.write(`nanocell: --with-config: there is no config dir at ${deps.configDir}\n`);
      return 1;
    }
    const tmp = `${file}.partial`;
    const result = await tar(['--create', '--file', tmp, '--numeric-owner', ...tarArgs]);
    const changed = result.code === 1 && /file changed as we read it/.test(result.stderr);
    if (result.code !== 0 && !changed) {
      fs.rmSync(tmp, { force: true });
      deps.err.write(
        `nanocell: backup failed: ${result.stderr.trim() || `tar exit ${result.code}`}\n`,
      );
      return 1;
    }
    if (withConfig) {
      // Its own run, so the rename to config/ touches only the config dir's members.
      const cfg = await tar([
        '--append',
        '--file',
        tmp,
        '--numeric-owner',
        '-C',
        deps.configDir,
        '--transform',
        's,^\\.,config,',
        '.',
      ]);
      if (cfg.code !== 0) {
        fs.rmSync(tmp, { force: true });
        deps.err.write(`nanocell: backup of the config dir failed: ${cfg.stderr.trim()}\n`);
        return 1;
      }
    }
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, file);
    const size = fs.statSync(file).size;
    deps.out.write(
      `backed up ${[DB, ...entries, ...(withConfig ? ['the config dir'] : [])].join(', ')} to ${file} (${Math.ceil(size / 1024)} KiB)\n`,
    );
    if (result.code === 1)
      deps.err.write('nanocell: note: some group files changed while they were read\n');
    return 0;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function restore(
  file: string,
  withConfig: boolean,
  replace: boolean,
  deps: BackupDeps,
): Promise<number> {
  if (deps.hostRunning()) {
    deps.err.write(
      'nanocell: nanocell is running on this data dir; stop it first (Ctrl-C or kill -TERM PID)\n',
    );
    return 1;
  }
  const listing = await tar(['--list', '--file', file]);
  if (listing.code !== 0) {
    deps.err.write(`nanocell: ${file} is not a nanocell backup: ${listing.stderr.trim()}\n`);
    return 1;
  }
  const members = listing.stdout.split('\n').filter(Boolean);
  const bad = members.find((m) => !allowedMember(m));
  if (bad !== undefined || !members.includes(DB)) {
    deps.err.write(
      `nanocell: ${file} is not a nanocell backup${bad !== undefined ? ` (it holds ${JSON.stringify(bad.slice(0, 80))})` : ` (no ${DB})`}\n`,
    );
    return 1;
  }
  const hasConfig = members.some((m) => m === CONFIG || m.startsWith(`${CONFIG}/`));
  if (withConfig && !hasConfig) {
    deps.err.write(
      `nanocell: --with-config: ${file} holds no config dir (back up with --with-config)\n`,
    );
    return 1;
  }
  fs.mkdirSync(deps.home, { recursive: true, mode: 0o711 });
  if (fs.existsSync(path.join(deps.home, DB))) {
    if (!replace) {
      deps.err.write(
        `nanocell: ${deps.home} already holds a store; restore --replace moves it aside first\n`,
      );
      return 1;
    }
    const aside = path.join(
      deps.home,
      `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`,
    );
    fs.mkdirSync(aside, { mode: 0o700 });
    for (const e of [DB, `${DB}-wal`, `${DB}-shm`, ...DATA_ENTRIES]) {
      if (fs.existsSync(path.join(deps.home, e)))
        fs.renameSync(path.join(deps.home, e), path.join(aside, e));
    }
    deps.out.write(`moved the current store and folders to ${aside}\n`);
  }
  const untar = await tar([
    '--extract',
    '--file',
    file,
    '--directory',
    deps.home,
    '--no-overwrite-dir',
    '--same-permissions',
    '--numeric-owner',
    '--exclude',
    CONFIG,
  ]);
  if (untar.code !== 0) {
    deps.err.write(`nanocell: restore failed: ${untar.stderr.trim()}\n`);
    return 1;
  }
  if (withConfig) {
    const staging = fs.mkdtempSync(path.join(path.dirname(deps.configDir), '.nanocell-restore-'));
    try {
      const r = await tar([
        '--extract',
        '--file',
        file,
        '--directory',
        staging,
        '--same-permissions',
        CONFIG,
      ]);
      if (r.code !== 0) {
        deps.err.write(`nanocell: restoring the config dir failed: ${r.stderr.trim()}\n`);
        return 1;
      }
      fs.mkdirSync(deps.configDir, { recursive: true, mode: 0o700 });
      fs.cpSync(path.join(staging, CONFIG), deps.configDir, {
        recursive: true,
        verbatimSymlinks: true,
      });
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  deps.out.write(
    `restored ${file} into ${deps.home}${withConfig ? ` and ${deps.configDir}` : ''}\n`,
  );
  return 0;
}

/** A member a backup may hold: the store, the data folders, the config dir; nothing else. */
function allowedMember(name: string): boolean {
  if (name.startsWith('/') || name.split('/').includes('..')) return false;
  const top = name.split('/')[0]!;
  return name === DB || DATA_ENTRIES.includes(top) || top === CONFIG;
}

function tar(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('tar', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 2) : 0;
      resolve({ code, stdout, stderr: stderr.slice(0, 4000) });
    });
  });
}

/**
 * A host recorded in `host.json` whose process is still alive. (When the data-dir lock of
 * the one-host work lands, ask it instead.)
 */
export function hostRecordedAlive(hostJson: string): boolean {
  let pid: unknown;
  try {
    pid = (JSON.parse(fs.readFileSync(hostJson, 'utf8')) as { pid?: unknown }).pid;
  } catch {
    return false;
  }
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const backupCli = (name: 'backup' | 'restore', summary: string) =>
  ({
    name,
    summary,
    usage: BACKUP_USAGE,
    needs: 'config',
    run: (args: string[], ctx: ConfigCommandContext) =>
      backupCommand(name, args, {
        home: ctx.config.home,
        configDir: ctx.config.configDir,
        out: ctx.out,
        err: ctx.err,
        hostRunning: () => hostRecordedAlive(hostFile(ctx.config.home)),
      }),
  }) satisfies CliCommand;

export const backupCommandCli = backupCli(
  'backup',
  'the store, group folders and audit log into FILE (--with-config)',
);
export const restoreCommandCli = backupCli('restore', 'restore FILE made by backup (--replace)');
