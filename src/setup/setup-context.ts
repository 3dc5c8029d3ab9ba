import type { Base } from '../app.js';
import type { TextOut } from '../cli/command.js';
import type { RuntimeVerdict } from '../cli/doctor-runtimes.js';
import type { Config } from '../config.js';
import type { ConfigDraft } from './config-draft.js';
import type { SetupFlags } from './setup-flags.js';
import type { SetupPrompts } from './setup-prompts.js';

/** What the steps of `nanocell setup` work with; the CLI wires the real pieces, tests their own streams. */
export interface SetupDeps {
  /** The store, audit log, runtimes and log of the data dir (groups and pairing codes go here). */
  base: Base;
  /** The owner's config file and its current text (undefined: there is none yet). */
  configFile: string;
  configText: string | undefined;
  writeConfigFile(file: string, text: string): void;
  /** The settings start-up would read with this config file text. Throws ConfigError. */
  configWith(text: string): Config;
  /** One environment variable, for `--api-key-env VAR` and `--channel NAME`. */
  env(name: string): string | undefined;
  /** The runtimes as `doctor` sorts them. */
  surveyRuntimes(): Promise<RuntimeVerdict[]>;
  /** Undefined when there is no terminal to ask on (or `--yes`): every answer from the flags. */
  prompts: SetupPrompts | undefined;
  out: TextOut;
  err: TextOut;
  /** A host (`start`) runs this command for us: it reads the new settings only when restarted. */
  hostRunning: boolean;
  /** How long a live check (model, platform) may take. */
  checkTimeoutMs: number;
}

/** One step's state: the deps, the flags, the draft of the config file. */
export interface StepContext extends SetupDeps {
  flags: SetupFlags;
  draft: ConfigDraft;
}

/** A step ends with `undefined` to go on, or the exit status to stop with (its message written). */
export type StepResult = number | undefined;

/** A line for the owner: in the wizard's frame, or plain (errors to stderr) without a terminal. */
export function tell(
  ctx: Pick<SetupDeps, 'prompts' | 'out' | 'err'>,
  kind: 'info' | 'success' | 'warn' | 'error',
  text: string,
): void {
  if (ctx.prompts) ctx.prompts.say(kind, text);
  else if (kind === 'error') ctx.err.write(`nanocell setup: ${text}\n`);
  else
    ctx.out.write(`${kind === 'success' ? 'ok  ' : kind === 'warn' ? 'note' : '    '} ${text}\n`);
}

/** Says so when the environment overrides what setup wrote to the file with another value. */
export function warnIfOverridden(ctx: StepContext, keys: string[]): void {
  const overridden = keys.filter((k) => {
    const value = ctx.env(k);
    return value !== undefined && value !== ctx.draft.get(k);
  });
  if (overridden.length) {
    tell(
      ctx,
      'warn',
      `${overridden.join(', ')} ${overridden.length === 1 ? 'is' : 'are'} also set in the environment, which wins over the config file`,
    );
  }
}
