import { describe, expect, it } from 'vitest';
import { knownChannel } from '../channels/registry.js';
import {
  missingFlags,
  parseSetupFlags,
  requiredChannelKeys,
  unsetEnvironment,
  type SetupFlags,
} from './setup-flags.js';

const parsed = (args: string[]): SetupFlags => {
  const flags = parseSetupFlags(args);
  if (typeof flags === 'string') throw new Error(flags);
  return flags;
};

describe('setup flags', () => {
  it('reads the whole non-interactive form', () => {
    const flags = parsed([
      '--provider',
      'openai',
      '--base-url',
      'http://127.0.0.1:11434/v1',
      '--model',
      'llama3.2',
      '--api-key-env',
      'MY_KEY',
      '--runtime',
      'bwrap',
      '--channel',
      'telegram',
      '--channel',
      'slack',
      '--pair',
      'telegram',
      '--group',
      'family',
      '--chat',
      'telegram:123',
      '--policy',
      'ask-network',
      '--yes',
    ]);
    expect(flags).toEqual({
      provider: 'openai',
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'llama3.2',
      apiKeyEnv: 'MY_KEY',
      runtime: 'bwrap',
      channels: ['telegram', 'slack'],
      pair: ['telegram'],
      group: 'family',
      chat: 'telegram:123',
      noGroup: false,
      policy: 'ask-network',
      yes: true,
      noCheck: false,
    });
    expect(missingFlags(flags)).toEqual([]);
  });

  it.each([
    [['--provider', 'gemini'], '--provider must be one of anthropic, openai'],
    [
      ['--provider', 'openai', '--base-url', 'ftp://x'],
      '--base-url: OPENAI_BASE_URL: must be an http(s) URL',
    ],
    [['--runtime', 'lxc'], '--runtime: NANOCELL_RUNTIME: must be one of'],
    [['--channel', 'irc'], '"irc" is not a chat platform'],
    [['--pair', 'web'], '"web" is not a chat platform'],
    [['--group', 'Family!'], '--group must be a group name'],
    [['--group', 'f', '--chat', 'telegram:abc'], '--chat: "abc" is not a telegram chat id'],
    [['--chat', 'web:x'], '--chat needs --group NAME'],
    [['--no-group', '--group', 'f'], '--no-group cannot go with --group or --chat'],
    [['--policy', 'strict'], '--policy must be one of ask-network, read-only, none'],
    [['--api-key-env', 'sk-ant-abc'], '--api-key-env takes the NAME of an environment variable'],
    [['--api-key', 'x'], "Unknown option '--api-key'"],
  ])('refuses %j: %s', (args, message) => {
    expect(parseSetupFlags(args)).toContain(message);
  });

  it('names every flag a run without a terminal still needs', () => {
    expect(missingFlags(parsed([]))).toEqual([
      '--provider anthropic|openai',
      '--runtime NAME (or auto)',
      '--group NAME [--chat CHANNEL:ID] (or --no-group)',
      '--policy ask-network|read-only|none',
    ]);
    expect(missingFlags(parsed(['--provider', 'anthropic']))).toContain('--api-key-env VAR');
    const openai = missingFlags(parsed(['--provider', 'openai']));
    expect(openai).toContain('--model NAME');
    expect(openai).not.toContain('--api-key-env VAR'); // a local server needs no key
  });

  it('finds unset environment variables before anything runs', () => {
    const flags = parsed([
      '--api-key-env',
      'MY_KEY',
      '--channel',
      'slack',
      '--channel',
      'telegram',
    ]);
    const env = (name: string) => ({ SLACK_BOT_TOKEN: 'xoxb-1' })[name];
    expect(unsetEnvironment(flags, env)).toEqual([
      '--api-key-env MY_KEY: that environment variable is not set (export MY_KEY=... first)',
      '--channel slack takes its credentials from the environment: set SLACK_APP_TOKEN',
      '--channel telegram takes its credentials from the environment: set TELEGRAM_BOT_TOKEN',
    ]);
  });

  it.each([
    ['telegram', ['TELEGRAM_BOT_TOKEN']],
    ['slack', ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN']],
    ['discord', ['DISCORD_BOT_TOKEN']],
    ['whatsapp', []],
    ['email', ['EMAIL_IMAP_URL', 'EMAIL_SMTP_URL', 'EMAIL_ADDRESS', 'EMAIL_ALLOWED_SENDERS']],
  ])('%s needs %j (settings with a default are left alone)', (name, keys) => {
    expect(requiredChannelKeys(knownChannel(name)!)).toEqual(keys);
  });
});
