import path from 'node:path';
import { parseArgs } from 'node:util';
import { ADMIN_GROUP, HOST_TOOL_NAMES, openAssistant, openBase, type Base } from './app.js';
import { AuditLog, auditLogPath } from './audit/audit-log.js';
import { RuntimeUnavailableError } from './cells/cell-runtime.js';
import { ask } from './cli/ask.js';
import { audit } from './cli/audit.js';
import { chat } from './cli/chat.js';
import { doctor } from './cli/doctor.js';
import { groupsCommand } from './cli/groups.js';
import { QuotaError } from './groups/group-quota.js';
import { policyCommand } from './cli/policy.js';
import { start } from './cli/start.js';
import { statusCommand } from './cli/status.js';
import { tasksCommand } from './cli/tasks.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { Store } from './store/store.js';

const USAGE = `usage: nanocell <command> [options]

commands:
  start                        run the assistant: local web chat, scheduled tasks, outbox
  chat [--group NAME]          talk to the assistant at the terminal (default: the admin group)
  ask [--group NAME] TEXT...   send one message, print the reply
  groups list|add|remove       manage groups (add NAME [--chat CHANNEL:ID] [--trigger W | --no-trigger])
  groups mount|unmount NAME PATH [--rw] [--at NAME]   grant a group an extra folder (see the allowlist)
  groups set NAME --model M [--provider P]   the group's own model (--model default: the configured one)
  tasks list|pause|resume|cancel [ID]   manage scheduled tasks (set ID --model M: its own model)
  status                       groups, live cells, queue and the next task runs
  doctor                       check the store, the model endpoint and each cell runtime
  audit tail [-n N] | verify   show or check the tamper-evident audit log
  policy check FILE | explain  check a policy file; explain a decision
  help                         show this text

configuration comes from the environment; see README.md (Configuration).
`;

const COMMANDS = ['start', 'chat', 'ask', 'groups', 'tasks', 'status', 'doctor'];

/** Exit statuses: 0 ok, 1 the request failed, 2 bad usage or configuration. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`nanocell: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  // These two parse their own arguments and need no model or runtime.
  if (command === 'audit') {
    const log = AuditLog.open(auditLogPath(config.home), {
      configDir: config.configDir,
    });
    try {
      return audit(rest, { auditLog: log, stdout: process.stdout, stderr: process.stderr });
    } finally {
      log.close();
    }
  }
  if (command === 'policy') {
    const store = Store.open(path.join(config.home, 'nanocell.db'));
    try {
      return policyCommand(rest, {
        policyDir: path.join(config.configDir, 'policy'),
        hostTools: HOST_TOOL_NAMES,
        lookupGroup: (name) => store.groups.byName(name),
        out: process,
      });
    } finally {
      store.close();
    }
  }

  if (!COMMANDS.includes(command)) {
    process.stderr.write(`nanocell: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        group: { type: 'string', short: 'g' },
        chat: { type: 'string' },
        trigger: { type: 'string' },
        'no-trigger': { type: 'boolean' },
        rw: { type: 'boolean' },
        at: { type: 'string' },
        model: { type: 'string' },
        provider: { type: 'string' },
      },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`nanocell: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (command === 'ask' && positionals.length === 0) {
    process.stderr.write(
      `nanocell: ask needs the message text, e.g. nanocell ask "what time is it?"\n`,
    );
    return 2;
  }

  const base: Base = openBase(config);
  if (command === 'doctor' || command === 'groups' || command === 'tasks' || command === 'status') {
    try {
      if (command === 'doctor') return await doctor(base, process.stdout);
      if (command === 'status') return await statusCommand(base, process.stdout);
      if (command === 'groups') {
        return groupsCommand(
          base,
          {
            positionals,
            chat: values.chat,
            trigger: values.trigger,
            noTrigger: values['no-trigger'],
            rw: values.rw,
            at: values.at,
            model: values.model,
            provider: values.provider,
          },
          process.stdout,
          process.stderr,
        );
      }
      return tasksCommand(
        base,
        { positionals, group: values.group, model: values.model, provider: values.provider },
        process.stdout,
        process.stderr,
      );
    } finally {
      base.close();
    }
  }

  // A local OpenAI-compatible server needs no key; the Anthropic API always does.
  if (base.config.provider === 'anthropic' && !base.config.apiKey) {
    process.stderr.write(
      'nanocell: ANTHROPIC_API_KEY is not set. Export it (export ANTHROPIC_API_KEY=sk-ant-...) and try again.\n',
    );
    base.close();
    return 1;
  }
  let assistant;
  try {
    assistant = await openAssistant(base, { retryRuns: command === 'start' });
  } catch (err) {
    base.close();
    if (err instanceof RuntimeUnavailableError || err instanceof QuotaError) {
      process.stderr.write(`nanocell: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const stopOnSignal = (signal: NodeJS.Signals) => {
    assistant.log.info({ signal }, 'stopping');
    void assistant.shutdown().then(() => process.exit(command === 'start' ? 0 : 130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    if (command === 'ask') {
      return await ask(assistant, positionals.join(' '), values.group, process);
    }
    if (command === 'start') return await start(assistant, process);
    return await chat(assistant, values.group ?? ADMIN_GROUP, process);
  } finally {
    await assistant.shutdown();
  }
}

// Everything nanocell writes is private to the owner unless made cell-visible on purpose
// (group and global folders set their own modes): the database, logs, audit log, tokens.
process.umask(0o077);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`nanocell: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
