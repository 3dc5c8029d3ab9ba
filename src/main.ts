import fs from 'node:fs';
import path from 'node:path';
import { openAssistant, openBase, type Assistant } from './app.js';
import { RuntimeUnavailableError } from './cells/cell-runtime.js';
import { askCommand } from './cli/ask.js';
import { auditCli } from './cli/audit.js';
import { backupCommandCli, restoreCommandCli } from './cli/backup.js';
import { chatCommand } from './cli/chat.js';
import { configCli } from './cli/config.js';
import type { CliCommand, LiveHost } from './cli/command.js';
import { didYouMean } from './cli/did-you-mean.js';
import { doctorCli } from './cli/doctor.js';
import { pairCli } from './cli/pair.js';
import { RunEventRelay } from './control/run-event-relay.js';
import { memoryCli } from './cli/memory.js';
import { groupsCli } from './cli/groups.js';
import { logsCli } from './cli/logs.js';
import { policyCli } from './cli/policy.js';
import { serviceCli } from './cli/service.js';
import { setupCli } from './cli/setup.js';
import { parseStartArgs, start, startCli } from './cli/start.js';
import { statusCli } from './cli/status.js';
import { tasksCli } from './cli/tasks.js';
import { usageCli } from './cli/usage.js';
import { uninstallCli } from './cli/uninstall.js';
import { whatsappCli } from './cli/whatsapp-link.js';
import { ConfigError, loadConfig, PROJECT_ROOT, type Config } from './config.js';
import { HostGoneError } from './control/control-client.js';
import {
  ControlServer,
  ControlSocketError,
  type ControlHandlers,
} from './control/control-server.js';
import { DataDirLock, DataDirLockError } from './control/data-dir-lock.js';
import { alreadyRunningMessage, busyMessage, ownDataDir } from './control/data-dir-owner.js';
import { formatHostEvent, HostEvents } from './control/host-events.js';
import { localChatSurface } from './control/local-chat.js';
import { TerminalHub } from './control/terminal-hub.js';
import { QuotaError } from './groups/group-quota.js';
import { StoreError } from './store/database.js';

const COMMANDS: readonly CliCommand[] = [
  setupCli,
  startCli,
  chatCommand,
  askCommand,
  groupsCli,
  pairCli,
  memoryCli,
  tasksCli,
  usageCli,
  statusCli,
  doctorCli,
  auditCli,
  policyCli,
  configCli,
  logsCli,
  backupCommandCli,
  restoreCommandCli,
  serviceCli,
  uninstallCli,
  whatsappCli,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return (
    'usage: nanocell <command> [options]   (nanocell <command> --help for its options)\n\ncommands:\n' +
    COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}\n`).join('') +
    `  ${'help'.padEnd(width)}this text; --version prints the version\n\n` +
    'While `start` runs, the other commands go through it (one process owns the data dir).\n' +
    'Configuration comes from the environment; see README.md (Configuration).\n'
  );
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

const wantsHelp = (args: string[]) => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

/** Exit statuses: 0 ok, 1 the request failed, 2 bad usage or configuration. */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const { stdout, stderr } = process;
  if (!name) {
    stderr.write(usage());
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const about = rest[0] ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    stdout.write(about ? about.usage : usage());
    return 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    stdout.write(`nanocell ${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const guess = didYouMean(
      name,
      COMMANDS.map((c) => c.name),
    );
    stderr.write(
      `nanocell: unknown command "${name}"${guess ? ` — did you mean "${guess}"?` : ''}\n\n${usage()}`,
    );
    return 2;
  }
  if (wantsHelp(rest)) {
    stdout.write(command.usage);
    return 0;
  }
  if (command.needs === 'none') return command.run(rest, { out: stdout, err: stderr });
  const problem =
    command.needs === 'store' || command.needs === 'config' ? null : command.check(rest);
  if (problem) {
    stderr.write(`nanocell: ${problem}\n${command.usage}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      stderr.write(`nanocell: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Others may pass through (cells run as their own uid) but not list; see openBase.
  fs.mkdirSync(config.home, { recursive: true, mode: 0o711 });

  if (command.needs === 'config') return command.run(rest, { config, out: stdout, err: stderr });
  if (command.needs === 'host') return runHost(config, rest);
  const owner = await ownDataDir(config.home, command.name);
  if (owner.kind === 'busy') {
    stderr.write(`nanocell: ${busyMessage(config.home, owner.holder)}\n`);
    return 1;
  }
  if (owner.kind === 'client') {
    const { client } = owner;
    try {
      return command.needs === 'store'
        ? await client.run(command.name, rest, stdout, stderr)
        : await command.run(rest, client.chatSurface(), { stdin: process.stdin, stdout, stderr });
    } catch (err) {
      if (!(err instanceof HostGoneError)) throw err;
      stderr.write(`nanocell: ${err.message} (the host stopped?); try again\n`);
      return 1;
    } finally {
      client.close();
    }
  }
  const { lock } = owner;
  if (command.needs === 'store') {
    const base = openBase(config);
    try {
      return await command.run(rest, { base, out: stdout, err: stderr, stdin: process.stdin });
    } finally {
      base.close();
      await lock.release();
    }
  }
  // Stand-alone chat or ask: this process owns the data dir for its lifetime.
  const opened = await openOwner(config, lock, false);
  if (typeof opened === 'number') return opened;
  try {
    return await command.run(
      rest,
      localChatSurface(opened.assistant, opened.hub, undefined, opened.runs),
      {
        stdin: process.stdin,
        stdout,
        stderr,
      },
    );
  } finally {
    await opened.stop();
  }
}

async function runHost(config: Config, args: string[]): Promise<number> {
  const options = parseStartArgs(args);
  if (typeof options === 'string') throw new Error(options); // checked in main
  let locked = await DataDirLock.acquire(config.home, 'start');
  // A store command (`groups add` ...) holds the data dir only for a moment: wait it out.
  const deadline = Date.now() + 5000;
  while (!locked.ok && !isLongLived(locked.holder?.command) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    locked = await DataDirLock.acquire(config.home, 'start');
  }
  if (!locked.ok) {
    process.stderr.write(`nanocell: ${alreadyRunningMessage(config.home, locked.holder)}\n`);
    return 1;
  }
  const events = new HostEvents();
  if (!options.quiet) {
    events.on((e) => process.stdout.write(`${formatHostEvent(e, new Date())}\n`));
  }
  const opened = await openOwner(config, locked.lock, true, events);
  if (typeof opened === 'number') return opened;
  return start(opened.assistant, {
    lock: locked.lock,
    events: events.emit,
    stdout: process.stdout,
    runs: opened.runs,
  });
}

/**
 * The process that owns the data dir: the assistant, its terminal hub and its control socket
 * (so every other command goes through it), and one way to stop all of it, on a signal too.
 */
async function openOwner(
  config: Config,
  lock: DataDirLock,
  isHost: boolean,
  events?: HostEvents,
): Promise<
  | { assistant: Assistant; hub: TerminalHub; runs: RunEventRelay; stop: () => Promise<void> }
  | number
> {
  const base = openBase(config);
  if (base.config.provider === 'anthropic' && !base.config.apiKey) {
    process.stderr.write(
      'nanocell: ANTHROPIC_API_KEY is not set. Export it (export ANTHROPIC_API_KEY=sk-ant-...) and try again.\n',
    );
    base.close();
    await lock.release();
    return 1;
  }
  // What runs write as they go, for the terminal chats that stream it.
  const runs = new RunEventRelay();
  let assistant: Assistant;
  try {
    assistant = await openAssistant(base, {
      retryRuns: isHost,
      ...(events ? { events: events.emit } : {}),
      onRunEvent: (ctx, event) => runs.emit(ctx, event),
    });
  } catch (err) {
    base.close();
    await lock.release();
    if (err instanceof RuntimeUnavailableError || err instanceof QuotaError) {
      process.stderr.write(`nanocell: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const hub = new TerminalHub(assistant.adminGroup.name);
  assistant.outbox.register(hub);
  const handlers: ControlHandlers = {
    runCommand: async (name, args, out, err) => {
      const command = COMMANDS.find((c) => c.name === name);
      if (command?.needs !== 'store') {
        err.write(`nanocell: the host does not run "${name}" for a client\n`);
        return 2;
      }
      return command.run(args, { base: assistant, out, err, live: liveHost(assistant, lock) });
    },
    chat: localChatSurface(assistant, hub, events?.emit, runs),
    ...(events ? { onError: (message: string) => events.emit({ type: 'error', message }) } : {}),
  };
  let control: ControlServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await control?.close();
      await assistant.shutdown();
      await lock.release();
    })();
    return stopping;
  };
  try {
    control = await ControlServer.listen(config.home, handlers, assistant.log);
  } catch (err) {
    await stop();
    throw err;
  }
  const onSignal = (signal: NodeJS.Signals) => {
    assistant.log.info({ signal }, 'stopping');
    void stop().then(() => process.exit(isHost ? 0 : 130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { assistant, hub, runs, stop };
}

/** Holders that keep the data dir until someone stops them (unknown counts as long-lived). */
function isLongLived(command: string | undefined): boolean {
  return command === undefined || command === 'start' || command === 'chat' || command === 'ask';
}

function liveHost(assistant: Assistant, lock: DataDirLock): LiveHost {
  const info = lock.info();
  return {
    pid: info.pid,
    command: info.command,
    startedAt: info.startedAt,
    ...(info.url ? { url: info.url } : {}),
    runtime: assistant.pool.runtimeName,
    liveCells: assistant.pool.liveCount(),
    queue: assistant.router.queueStats(),
    outboxPending: assistant.store.messages.outboxPendingCount(),
  };
}

// Everything nanocell writes is private to the owner unless made cell-visible on purpose
// (group and global folders set their own modes): the database, logs, audit log, tokens.
process.umask(0o077);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (
      err instanceof DataDirLockError ||
      err instanceof ControlSocketError ||
      err instanceof StoreError
    ) {
      process.stderr.write(`nanocell: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`nanocell: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
