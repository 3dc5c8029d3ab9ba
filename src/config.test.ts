import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, PROJECT_ROOT } from './config.js';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted an invalid environment');
}

describe('loadConfig', () => {
  it('fills in defaults from an empty environment', () => {
    const config = loadConfig({}, () => undefined);
    expect(config).toMatchObject({
      apiKey: undefined,
      baseUrl: 'https://api.anthropic.com',
      assistantName: 'Andy',
      runtime: 'auto',
      home: process.getuid?.() === 0 ? '/var/lib/nanocell' : path.join(os.homedir(), '.nanocell'),
      modelTimeoutMs: 120_000,
      modelMaxRetries: 4,
      maxTokens: 4096,
      maxToolRounds: 25,
      toolTimeoutMs: 60_000,
      maxOutputBytes: 30_000,
      cellIdleMs: 120_000,
      cellReuse: 'run',
      cellImage: 'nanocell-cell:latest',
      cellRootfs: path.join(PROJECT_ROOT, 'build', 'cell-rootfs'),
      toolServerPath: path.join(PROJECT_ROOT, 'dist', 'cells', 'tool-server.js'),
      logLevel: 'info',
    });
    expect(config.timezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it.each([
    ['ANTHROPIC_API_KEY', 'sk-ant-test', { apiKey: 'sk-ant-test' }],
    ['ANTHROPIC_BASE_URL', 'http://127.0.0.1:8080', { baseUrl: 'http://127.0.0.1:8080' }],
    ['ANTHROPIC_BASE_URL', 'http://127.0.0.1:8080//', { baseUrl: 'http://127.0.0.1:8080' }],
    ['NANOCELL_ASSISTANT_NAME', 'Bob_2', { assistantName: 'Bob_2' }],
    ['NANOCELL_RUNTIME', 'docker', { runtime: 'docker' }],
    ['NANOCELL_RUNTIME', 'bwrap', { runtime: 'bwrap' }],
    ['NANOCELL_HOME', '/srv/nanocell', { home: '/srv/nanocell' }],
    ['NANOCELL_HOME', 'rel/home', { home: path.resolve('rel/home') }],
    ['NANOCELL_TOOL_TIMEOUT_MS', '1500', { toolTimeoutMs: 1500 }],
    ['NANOCELL_MODEL_MAX_RETRIES', '0', { modelMaxRetries: 0 }],
    ['NANOCELL_MAX_TOOL_ROUNDS', '3', { maxToolRounds: 3 }],
    ['NANOCELL_CELL_ROOTFS', '/opt/rootfs', { cellRootfs: '/opt/rootfs' }],
    ['NANOCELL_CELL_REUSE', 'group', { cellReuse: 'group' }],
    ['NANOCELL_LOG_LEVEL', 'silent', { logLevel: 'silent' }],
    ['NANOCELL_GROUP_QUOTA_MB', '512', { groupQuotaMb: 512 }],
    ['TZ', 'Europe/Paris', { timezone: 'Europe/Paris' }],
    [
      'NANOCELL_WEB_PUBLIC_URL',
      'https://chat.example.org',
      { webPublicUrl: 'https://chat.example.org' },
    ],
  ] as const)('reads %s=%j', (name, value, expected) => {
    expect(loadConfig({ [name]: value })).toMatchObject(expected);
  });

  it('reads channel credentials; a channel without them has none', () => {
    expect(loadConfig({ NANOCELL_CONFIG_DIR: '/etc/nc' }).channels).toEqual({
      telegram: { botToken: undefined, apiRoot: 'https://api.telegram.org' },
      slack: { botToken: undefined, appToken: undefined, apiUrl: 'https://slack.com/api/' },
      discord: { botToken: undefined, apiUrl: 'https://discord.com/api' },
      email: {
        imapUrl: undefined,
        smtpUrl: undefined,
        address: undefined,
        allowedSenders: [],
        pollSeconds: 30,
      },
      whatsapp: { authDir: '/etc/nc/whatsapp' },
    });
    const token = '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: token }).channels.telegram.botToken).toBe(token);
  });

  it('refuses a malformed Telegram token without showing it', () => {
    const err = configError({ TELEGRAM_BOT_TOKEN: 'not-a-token-secret' });
    expect(err.message).toContain('TELEGRAM_BOT_TOKEN');
    expect(err.message).not.toContain('not-a-token-secret');
  });

  it('refuses half a Slack configuration, naming the missing token', () => {
    const err = configError({ SLACK_BOT_TOKEN: 'xoxb-1-2-3' });
    expect(err.problems.join('\n')).toMatch(/SLACK_APP_TOKEN: is not set/);
    expect(err.message).not.toContain('xoxb-1-2-3');
  });

  it('reads one mailbox, refusing half of one and a sender list with a non-address', () => {
    const mail = {
      EMAIL_IMAP_URL: 'imaps://bot:pw@mail.example.com:993',
      EMAIL_SMTP_URL: 'smtp://bot:pw@mail.example.com:587',
      EMAIL_ADDRESS: 'Bot@Example.com',
      EMAIL_ALLOWED_SENDERS: ' Me@example.com, you@example.com ',
    };
    const email = loadConfig(mail).channels.email;
    expect(email.address).toBe('bot@example.com');
    expect(email.allowedSenders).toEqual(['me@example.com', 'you@example.com']);
    const half = configError({ EMAIL_IMAP_URL: mail.EMAIL_IMAP_URL });
    expect(half.problems.join('\n')).toMatch(/EMAIL_SMTP_URL, EMAIL_ADDRESS: not set/);
    expect(half.message).not.toContain('pw@');
    const bad = configError({ ...mail, EMAIL_ALLOWED_SENDERS: 'me@example.com,bob' });
    expect(bad.message).toMatch(/"bob" is not an email address/);
    expect(configError({ ...mail, EMAIL_SMTP_URL: 'http://x' }).message).toMatch(
      /EMAIL_SMTP_URL: must be a smtp or smtps URL/,
    );
  });

  it('has no group quota unless one is set', () => {
    expect(loadConfig({}).groupQuotaMb).toBeUndefined();
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ PATH: '/usr/bin', HOME: '/root', SOMETHING: 'else' })).not.toThrow();
  });

  it.each([
    ['ANTHROPIC_BASE_URL', 'not a url'],
    ['ANTHROPIC_API_KEY', ''],
    ['NANOCELL_RUNTIME', 'lxc'],
    ['NANOCELL_TOOL_TIMEOUT_MS', '-5'],
    ['NANOCELL_TOOL_TIMEOUT_MS', '1.5'],
    ['NANOCELL_MAX_OUTPUT_BYTES', 'lots'],
    ['NANOCELL_MODEL_MAX_RETRIES', '11'],
    ['NANOCELL_ASSISTANT_NAME', 'two words'],
    ['NANOCELL_ASSISTANT_NAME', '9lives'],
    ['NANOCELL_LOG_LEVEL', 'verbose'],
    ['NANOCELL_WEB_PUBLIC_URL', 'chat.example.org'],
    ['NANOCELL_WEB_PUBLIC_URL', 'https://chat.example.org/nanocell'],
    ['NANOCELL_GROUP_QUOTA_MB', '4'],
    ['NANOCELL_GROUP_QUOTA_MB', 'big'],
    ['NANOCELL_CELL_REUSE', 'never'],
  ])('rejects %s=%j, naming the variable', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('lists every invalid variable in one ConfigError', () => {
    const err = configError({
      ANTHROPIC_BASE_URL: 'not a url',
      NANOCELL_RUNTIME: 'lxc',
      NANOCELL_TOOL_TIMEOUT_MS: '-5',
      NANOCELL_ASSISTANT_NAME: 'two words',
    });
    expect(err.name).toBe('ConfigError');
    const named = err.problems.map((p) => p.split(':')[0]).sort();
    expect(named).toEqual([
      'ANTHROPIC_BASE_URL',
      'NANOCELL_ASSISTANT_NAME',
      'NANOCELL_RUNTIME',
      'NANOCELL_TOOL_TIMEOUT_MS',
    ]);
    expect(err.problems.find((p) => p.startsWith('NANOCELL_RUNTIME'))).toContain(
      'must be one of auto, bwrap, docker',
    );
    expect(err.problems.find((p) => p.startsWith('ANTHROPIC_BASE_URL'))).toContain('must be a URL');
    for (const problem of err.problems) expect(err.message).toContain(problem);
  });
  it('chooses the Anthropic API by default and an OpenAI-compatible one when told', () => {
    expect(loadConfig({})).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-5-5' });
    expect(
      loadConfig({
        NANOCELL_PROVIDER: 'openai',
        OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1/',
        NANOCELL_MODEL: 'llama3.2',
        NANOCELL_FALLBACK_MODEL: 'qwen2.5',
      }),
    ).toMatchObject({
      provider: 'openai',
      openai: { apiKey: undefined, baseUrl: 'http://127.0.0.1:11434/v1' },
      model: 'llama3.2',
      fallbackModel: 'qwen2.5',
    });
  });

  it('refuses an unknown provider, naming the known ones, and a base URL that is not a URL', () => {
    const err = configError({ NANOCELL_PROVIDER: 'ollama', OPENAI_BASE_URL: 'localhost:11434' });
    expect(err.problems).toEqual([
      expect.stringMatching(/^NANOCELL_PROVIDER: must be one of anthropic, openai$/),
      expect.stringMatching(
        /^OPENAI_BASE_URL: must be an http\(s\) URL such as http:\/\/127\.0\.0\.1:11434\/v1/,
      ),
    ]);
  });

  it('asks for NANOCELL_MODEL with the openai provider, which has no default model', () => {
    expect(configError({ NANOCELL_PROVIDER: 'openai' }).problems).toEqual([
      expect.stringContaining('NANOCELL_MODEL: must be set with NANOCELL_PROVIDER=openai'),
    ]);
  });

  it.each([
    ['NANOCELL_MAX_TASKS_PER_GROUP', '7', { maxTasksPerGroup: 7 }],
    ['NANOCELL_MAX_TASKS_PER_RUN', '2', { maxTasksPerRun: 2 }],
    ['TZ', 'UTC', { timezone: 'UTC' }],
    ['TZ', 'America/Argentina/Buenos_Aires', { timezone: 'America/Argentina/Buenos_Aires' }],
    ['TZ', 'europe/berlin', { timezone: 'Europe/Berlin' }],
    ['TZ', 'Asia/Kolkata', { timezone: 'Asia/Kolkata' }],
  ] as const)('reads %s=%j', (name, value, expected) => {
    expect(loadConfig({ [name]: value })).toMatchObject(expected);
  });

  it('defaults the task caps', () => {
    expect(loadConfig({})).toMatchObject({ maxTasksPerGroup: 50, maxTasksPerRun: 10 });
  });

  it.each(['Mars/Olympus_Mons', 'Europe/Berln', '', 'not a zone', 'Europe/Berlin\n'])(
    'refuses TZ=%j, naming TZ and an example',
    (tz) => {
      const err = configError({ TZ: tz });
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toMatch(/^TZ: .*time zone.*Europe\/Berlin/);
    },
  );
});

describe('loadConfig: where the config dir and the data dir are', () => {
  const made: string[] = [];
  const tmp = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-config-'));
    made.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('accepts sibling dirs', () => {
    const root = tmp();
    const config = loadConfig({
      NANOCELL_HOME: path.join(root, 'data'),
      NANOCELL_CONFIG_DIR: path.join(root, 'config'),
    });
    expect(config.configDir).toBe(path.join(root, 'config'));
  });

  it.each([
    [
      'the config dir inside the data dir',
      'data',
      'data/config',
      /NANOCELL_CONFIG_DIR .* is inside NANOCELL_HOME/,
    ],
    [
      'the data dir inside the config dir',
      'config/data',
      'config',
      /NANOCELL_HOME .* is inside NANOCELL_CONFIG_DIR/,
    ],
    ['the same dir for both', 'same', 'same', /is inside/],
  ])('refuses %s', (_what, home, configDir, message) => {
    const root = tmp();
    const err = configError({
      NANOCELL_HOME: path.join(root, home),
      NANOCELL_CONFIG_DIR: path.join(root, configDir),
    });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(message);
    expect(err.problems[0]).toMatch(/e\.g\. NANOCELL_/);
  });

  it('sees through a symlink that hides the config dir inside the data dir', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'data', 'secrets'), { recursive: true });
    fs.symlinkSync(path.join(root, 'data', 'secrets'), path.join(root, 'config-link'));
    const err = configError({
      NANOCELL_HOME: path.join(root, 'data'),
      NANOCELL_CONFIG_DIR: path.join(root, 'config-link', 'nanocell'),
    });
    expect(err.problems[0]).toMatch(/NANOCELL_CONFIG_DIR .* is inside NANOCELL_HOME/);
  });
});
