import type { Readable, Writable } from 'node:stream';
import { surveyRuntimes } from '../cells/select-runtime.js';
import { configFilePath, configFileReader, environmentValue, loadConfig } from '../config.js';
import type { SetupDeps } from '../setup/setup-context.js';
import { parseSetupFlags } from '../setup/setup-flags.js';
import { POLICY_TEMPLATES } from '../setup/policy-templates.js';
import type { CliCommand, StoreCommandContext } from './command.js';
import { writeConfigFile } from './config.js';
import { classifyRuntimes } from './doctor-runtimes.js';

export const SETUP_USAGE = `usage: nanocell setup [flags]
  A wizard, in order: the model (provider, URL, model, key; checked with one real request),
  the cell runtime (one doctor finds available), chat platforms (credentials checked, then a
  pairing code), a first group and its chat, a first policy. Settings go to the config file
  (nanocell config path); the policy to NANOCELL_CONFIG_DIR/policy/default.policy. Run it
  again to change an answer: each step is saved when it succeeds.

  Each flag answers its step; without a terminal (scripts, CI) or with --yes, every step must
  be answered and setup exits 2 naming the missing flags:
  --provider anthropic|openai   openai: any OpenAI-compatible server (Ollama, vLLM, ...)
  --base-url URL                the server (openai; default https://api.openai.com/v1)
  --model NAME                  needed with openai
  --api-key-env VAR             the environment variable that holds the key (never the key
                                itself: arguments show in the process list); needed with anthropic
  --runtime NAME|auto           bwrap, docker, podman, gvisor, ... (nanocell doctor lists them)
  --channel NAME                connect a platform (repeatable); its credentials come from the
                                environment variables of the same names (TELEGRAM_BOT_TOKEN, ...)
  --pair NAME                   print a pairing code for a platform (repeatable)
  --group NAME [--chat CHANNEL:CHAT_ID] | --no-group
  --policy ${POLICY_TEMPLATES.join('|')}
  --no-check                    skip the live checks (model request, platform checks)
  -y, --yes                     ask nothing; replace an existing default.policy
e.g. nanocell setup --provider openai --base-url http://127.0.0.1:11434/v1 --model llama3.2 \\
       --runtime bwrap --group family --chat telegram:123456789 --policy ask-network --yes
`;

const isTty = (stream: unknown) => (stream as { isTTY?: boolean } | undefined)?.isTTY === true;

/** `nanocell setup`: a store command, so groups and pairing codes go to the data dir's owner. */
export const setupCli: CliCommand = {
  name: 'setup',
  summary: 'a wizard: model and key, runtime, chat platforms, a first group and policy',
  usage: SETUP_USAGE,
  needs: 'store',
  async run(args, ctx: StoreCommandContext) {
    const flags = parseSetupFlags(args);
    if (typeof flags === 'string') {
      ctx.err.write(`nanocell setup: ${flags}\n${SETUP_USAGE}`);
      return 2;
    }
    if (ctx.live && (flags.apiKeyEnv || flags.channels.length)) {
      // The host runs this command for us, in its own process: it cannot see this shell's variables.
      ctx.err.write(
        'nanocell setup: the host is running, and --api-key-env and --channel read the environment of this shell, which the host cannot see; stop the host first, or set the values with nanocell config set\n',
      );
      return 2;
    }
    // Asked only in the user's own terminal: a host running this for a client has no stdin.
    const interactive = !flags.yes && ctx.live === undefined && isTty(ctx.stdin) && isTty(ctx.out);
    // The wizard and its prompt library load here, not with the CLI: the running host, which
    // imports every command, would otherwise hold them idle (about 3 MiB; issue 17).
    const [{ runSetup }, { clackPrompts }] = await Promise.all([
      import('../setup/run-setup.js'),
      import('../setup/setup-prompts.js'),
    ]);
    const file = configFilePath();
    const deps: SetupDeps = {
      base: ctx.base,
      configFile: file,
      configText: configFileReader(file),
      writeConfigFile,
      configWith: (text) => loadConfig(undefined, (f) => (f === file ? text : configFileReader(f))),
      env: (name) => environmentValue(name),
      surveyRuntimes: async () => {
        const reports = await surveyRuntimes(ctx.base.runtimes);
        return classifyRuntimes(
          reports.map((r) => ({ name: r.runtime.name, status: r.status })),
          { platform: process.platform, isRoot: process.getuid?.() === 0 },
          undefined,
        );
      },
      prompts: interactive
        ? clackPrompts(ctx.stdin as Readable, ctx.out as unknown as Writable)
        : undefined,
      out: ctx.out,
      err: ctx.err,
      hostRunning: ctx.live !== undefined,
      checkTimeoutMs: 15_000,
    };
    return runSetup(flags, deps);
  },
};
