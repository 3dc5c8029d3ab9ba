import { parseArgs } from 'node:util';
import { openAssistant, openBase, ADMIN_GROUP, type Base } from './app.js';
import { RuntimeUnavailableError } from './cells/cell-runtime.js';
import { ask } from './cli/ask.js';
import { chat } from './cli/chat.js';
import { doctor } from './cli/doctor.js';
import { ConfigError, loadConfig } from './config.js';

const USAGE = `usage: nanocell <command> [options]

commands:
  chat [--group NAME]          talk to the assistant at the terminal (default: the admin group)
  ask [--group NAME] TEXT...   send one message, print the reply
  doctor                       check the store, the model endpoint and each cell runtime
  help                         show this text

configuration comes from the environment; see README.md (Configuration).
`;

/** Exit statuses: 0 ok, 1 the request failed, 2 bad usage or configuration. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { group: { type: 'string', short: 'g' } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`nanocell: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (!['chat', 'ask', 'doctor'].includes(command)) {
    process.stderr.write(`nanocell: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (command === 'ask' && positionals.length === 0) {
    process.stderr.write(
      `nanocell: ask needs the message text, e.g. nanocell ask "what time is it?"\n`,
    );
    return 2;
  }

  let base: Base;
  try {
    base = openBase(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`nanocell: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  if (command === 'doctor') {
    try {
      return await doctor(base, process.stdout);
    } finally {
      base.close();
    }
  }

  if (!base.config.apiKey) {
    process.stderr.write(
      'nanocell: ANTHROPIC_API_KEY is not set. Export it (export ANTHROPIC_API_KEY=sk-ant-...) and try again.\n',
    );
    base.close();
    return 1;
  }
  let assistant;
  try {
    assistant = await openAssistant(base);
  } catch (err) {
    base.close();
    if (err instanceof RuntimeUnavailableError) {
      process.stderr.write(`nanocell: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const stopOnSignal = () => {
    void assistant.shutdown().then(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    if (command === 'ask') {
      return await ask(assistant, positionals.join(' '), values.group, process);
    }
    return await chat(assistant, values.group ?? ADMIN_GROUP, process);
  } finally {
    await assistant.shutdown();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`nanocell: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
