import { parseArgs } from 'node:util';
import {
  KNOWN_CHANNELS,
  knownChannel,
  parseChatAddress,
  type KnownChannel,
} from '../channels/registry.js';
import { checkSetting, PROVIDERS, settingDefault, type ProviderName } from '../config.js';
import { GROUP_NAME_PATTERN } from '../store/groups.js';
import { POLICY_TEMPLATES, type PolicyTemplate } from './policy-templates.js';

/** What the flags of `nanocell setup` answer; a step with no answer is asked (or missing). */
export interface SetupFlags {
  provider?: ProviderName;
  baseUrl?: string;
  model?: string;
  /** The environment variable holding the API key: a key on the command line would show in `ps`. */
  apiKeyEnv?: string;
  runtime?: string;
  /** Platforms to connect; their credentials come from the environment variables of the same names. */
  channels: string[];
  /** Platforms to print a pairing code for. */
  pair: string[];
  group?: string;
  chat?: string;
  noGroup: boolean;
  policy?: PolicyTemplate;
  /** Never ask: every step from the flags (as with no terminal); replace an existing policy. */
  yes: boolean;
  /** Skip the live checks (the model request, each platform's check). */
  noCheck: boolean;
}

export const platformNames = (): string[] =>
  KNOWN_CHANNELS.filter((c) => !c.builtIn).map((c) => c.name);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The flags, each checked by the rules start-up uses; a string says what is wrong. */
export function parseSetupFlags(args: string[]): SetupFlags | string {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        provider: { type: 'string' },
        'base-url': { type: 'string' },
        model: { type: 'string' },
        'api-key-env': { type: 'string' },
        runtime: { type: 'string' },
        channel: { type: 'string', multiple: true },
        pair: { type: 'string', multiple: true },
        group: { type: 'string' },
        chat: { type: 'string' },
        'no-group': { type: 'boolean' },
        policy: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        'no-check': { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    return (err as Error).message;
  }
  const flags: SetupFlags = {
    channels: values.channel ?? [],
    pair: values.pair ?? [],
    noGroup: values['no-group'] === true,
    yes: values.yes === true,
    noCheck: values['no-check'] === true,
  };
  if (values.provider !== undefined) {
    if (!(PROVIDERS as readonly string[]).includes(values.provider)) {
      return `--provider must be one of ${PROVIDERS.join(', ')} (openai: any OpenAI-compatible server)`;
    }
    flags.provider = values.provider as ProviderName;
  }
  if (values['base-url'] !== undefined) {
    const key = flags.provider === 'anthropic' ? 'ANTHROPIC_BASE_URL' : 'OPENAI_BASE_URL';
    const problem = checkSetting(key, values['base-url']);
    if (problem) return `--base-url: ${problem}`;
    flags.baseUrl = values['base-url'];
  }
  if (values.model !== undefined) {
    const problem = checkSetting('NANOCELL_MODEL', values.model);
    if (problem) return `--model: ${problem}`;
    flags.model = values.model;
  }
  if (values['api-key-env'] !== undefined) {
    if (!ENV_NAME.test(values['api-key-env'])) {
      return '--api-key-env takes the NAME of an environment variable that holds the key, e.g. --api-key-env OPENAI_API_KEY';
    }
    flags.apiKeyEnv = values['api-key-env'];
  }
  if (values.runtime !== undefined) {
    const problem = checkSetting('NANOCELL_RUNTIME', values.runtime);
    if (problem) return `--runtime: ${problem}`;
    flags.runtime = values.runtime;
  }
  const platforms = platformNames();
  for (const name of [...flags.channels, ...flags.pair]) {
    if (!platforms.includes(name)) {
      return `"${name.slice(0, 40)}" is not a chat platform; use one of ${platforms.join(', ')}`;
    }
  }
  if (values.group !== undefined) {
    if (!GROUP_NAME_PATTERN.test(values.group)) {
      return '--group must be a group name: lower-case letters, digits, - and _ (e.g. family)';
    }
    flags.group = values.group;
  }
  if (values.chat !== undefined) {
    const address = parseChatAddress(values.chat);
    if (!address.ok) return `--chat: ${address.reason}`;
    flags.chat = values.chat;
  }
  if (flags.noGroup && (flags.group !== undefined || flags.chat !== undefined)) {
    return '--no-group cannot go with --group or --chat';
  }
  if (flags.chat !== undefined && flags.group === undefined) return '--chat needs --group NAME';
  if (values.policy !== undefined) {
    if (!(POLICY_TEMPLATES as readonly string[]).includes(values.policy)) {
      return `--policy must be one of ${POLICY_TEMPLATES.join(', ')}`;
    }
    flags.policy = values.policy as PolicyTemplate;
  }
  return flags;
}

/**
 * The flags a run without a terminal still needs, by name; empty when every step is answered.
 * A key is needed for Anthropic; an OpenAI-compatible server may need none (Ollama).
 */
export function missingFlags(flags: SetupFlags): string[] {
  const missing: string[] = [];
  if (!flags.provider) missing.push('--provider anthropic|openai');
  if (flags.provider === 'openai' && !flags.model) missing.push('--model NAME');
  if (flags.provider === 'anthropic' && !flags.apiKeyEnv) missing.push('--api-key-env VAR');
  if (!flags.runtime) missing.push('--runtime NAME (or auto)');
  if (!flags.group && !flags.noGroup)
    missing.push('--group NAME [--chat CHANNEL:ID] (or --no-group)');
  if (!flags.policy) missing.push(`--policy ${POLICY_TEMPLATES.join('|')}`);
  return missing;
}

/** The settings a platform cannot go without (those with a default, like API roots, may stay unset). */
export function requiredChannelKeys(channel: KnownChannel): string[] {
  return channel.configKeys.filter((key) => {
    const fallback = settingDefault(key);
    return fallback === undefined || fallback === '';
  });
}

/**
 * The environment variables the flags take values from but that are not set (`--api-key-env
 * VAR`, each `--channel NAME`'s credentials): found before any step changes anything.
 */
export function unsetEnvironment(
  flags: SetupFlags,
  env: (name: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  if (flags.apiKeyEnv && !env(flags.apiKeyEnv)) {
    problems.push(
      `--api-key-env ${flags.apiKeyEnv}: that environment variable is not set (export ${flags.apiKeyEnv}=... first)`,
    );
  }
  for (const name of flags.channels) {
    const unset = requiredChannelKeys(knownChannel(name)!).filter((key) => !env(key));
    if (unset.length) {
      problems.push(
        `--channel ${name} takes its credentials from the environment: set ${unset.join(', ')}`,
      );
    }
  }
  return problems;
}
