import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BwrapRuntime } from '../../src/cells/bwrap.js';
import { loadConfig } from '../../src/config.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fake-openai-server.js';
import { FakeTelegram } from '../support/fake-telegram.js';
import { startHost } from '../support/host-process.js';
import { CLI, cliEnv, REPO_ROOT, runCli } from '../support/run-cli.js';
import { shouldRun } from '../support/runtimes.js';
import { tempHome } from '../support/temp-home.js';

const KEY = 'sk-setup-e2e-0123456789abcdef';
const bwrapWorks = await shouldRun(new BwrapRuntime({ rootfs: loadConfig({}).cellRootfs }));

describe('./nanocell setup with flags (no terminal)', () => {
  let model: FakeOpenAIServer;
  const homes: Array<{ cleanup: () => void }> = [];
  beforeAll(async () => {
    model = await startFakeOpenAIServer();
  });
  afterAll(() => model.close());
  afterEach(() => {
    model.reset();
    homes.splice(0).forEach((h) => h.cleanup());
  });

  function dirs() {
    const data = tempHome();
    const config = tempHome('nanocell-config-');
    homes.push(data, config);
    return {
      env: { NANOCELL_HOME: data.dir, NANOCELL_CONFIG_DIR: config.dir },
      configDir: config.dir,
    };
  }

  const flags = (url: string) => [
    'setup',
    '--provider',
    'openai',
    '--base-url',
    url,
    '--model',
    'fake-model',
    '--api-key-env',
    'MY_MODEL_KEY',
    '--runtime',
    'bwrap',
    '--group',
    'family',
    '--chat',
    'telegram:123456789',
    '--policy',
    'ask-network',
    '--yes',
  ];

  it.runIf(bwrapWorks)(
    'writes the config file, the policy and the group, and doctor is happy with what it wrote',
    async () => {
      const { env, configDir } = dirs();
      model.requireApiKey(KEY);
      const r = await runCli(flags(model.url), { ...env, MY_MODEL_KEY: KEY });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('ok   model: openai fake-model');
      expect(r.stdout).toContain('next: ./nanocell start');
      expect(`${r.stdout}${r.stderr}`).not.toContain(KEY);

      const file = path.join(configDir, 'config');
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toContain('NANOCELL_PROVIDER=openai\n');
      expect(text).toContain(`OPENAI_BASE_URL=${model.url}\n`);
      expect(text).toContain('NANOCELL_MODEL=fake-model\n');
      expect(text).toContain(`OPENAI_API_KEY=${KEY}\n`);
      expect(text).toContain('NANOCELL_RUNTIME=bwrap\n');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);

      const policy = path.join(configDir, 'policy', 'default.policy');
      expect(fs.readFileSync(policy, 'utf8')).toContain('allow http domain="*" method=GET,HEAD');
      const check = await runCli(['policy', 'check', policy], env);
      expect(check.code).toBe(0);

      const groups = await runCli(['groups', 'list'], env);
      expect(groups.stdout).toMatch(/^family\t.*chats: .*telegram:123456789/m);

      // Only the data and config dirs in the environment: everything else from the file.
      const doctor = await runCli(['doctor'], env);
      expect(doctor.stdout).toMatch(/^ok {3}model: openai fake-model at http/m);
      expect(doctor.stdout).toMatch(/^ok {3}runtime bwrap: .*\[selected\]$/m);
      expect(doctor.code).toBe(0);
      expect(doctor.stdout).not.toContain(KEY);

      // Run again: nothing to do twice, the group is kept.
      const again = await runCli(flags(model.url), { ...env, MY_MODEL_KEY: KEY });
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('group family exists and answers telegram:123456789');
    },
  );

  it('without a terminal names every missing flag, exits 2 and writes nothing', async () => {
    const { env, configDir } = dirs();
    const r = await runCli(['setup', '--provider', 'openai'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no terminal to ask on');
    for (const flag of ['--model NAME', '--runtime', '--group NAME', '--policy']) {
      expect(r.stderr).toContain(flag);
    }
    expect(fs.existsSync(path.join(configDir, 'config'))).toBe(false);
  });

  it('a key the server refuses fails the model step (exit 1); the key is never printed or written', async () => {
    const { env, configDir } = dirs();
    model.requireApiKey('sk-the-right-one');
    const args = flags(model.url).map((a) => (a === 'bwrap' ? 'auto' : a));
    const r = await runCli(args, { ...env, MY_MODEL_KEY: KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model check failed: openai fake-model: .*/);
    expect(r.stderr).toContain('nothing was written');
    expect(`${r.stdout}${r.stderr}`).not.toContain(KEY);
    expect(fs.existsSync(path.join(configDir, 'config'))).toBe(false);
    expect(fs.existsSync(path.join(configDir, 'policy', 'default.policy'))).toBe(false);
  });

  it('refuses an --api-key-env variable that is not set, and a malformed chat address', async () => {
    const { env } = dirs();
    const unset = await runCli(flags(model.url), env);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain(
      '--api-key-env MY_MODEL_KEY: that environment variable is not set',
    );
    const bad = await runCli(
      flags(model.url).map((a) => (a === 'telegram:123456789' ? 'telegram:abc' : a)),
      { ...env, MY_MODEL_KEY: KEY },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--chat: "abc" is not a telegram chat id');
  });

  it('--channel takes the platform credentials from the environment, checks them, and --pair prints a code', async () => {
    const { env, configDir } = dirs();
    const token = '5151:setup-e2e-token-abcdefghijkl';
    model.requireApiKey(KEY);
    const telegram = await FakeTelegram.start(token);
    try {
      const args = [
        ...flags(model.url).map((a) => (a === 'bwrap' ? 'auto' : a)),
        '--channel',
        'telegram',
        '--pair',
        'telegram',
      ];
      const r = await runCli(args, {
        ...env,
        MY_MODEL_KEY: KEY,
        TELEGRAM_BOT_TOKEN: token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('ok   telegram: token accepted (bot @');
      expect(r.stdout).toMatch(/^ {4}pair [A-Z0-9]{6,}$/m);
      expect(r.stdout).not.toContain('telegram is off here');
      expect(`${r.stdout}${r.stderr}`).not.toContain(token);
      const text = fs.readFileSync(path.join(configDir, 'config'), 'utf8');
      expect(text).toContain(`TELEGRAM_BOT_TOKEN=${token}\n`);
      expect(text).toContain(`TELEGRAM_API_ROOT=${telegram.apiRoot}\n`);

      // A token Telegram refuses stops at the channels step; it is not written.
      const refused = await runCli(args, {
        ...env,
        MY_MODEL_KEY: KEY,
        TELEGRAM_BOT_TOKEN: '5151:wrong-token-abcdefghijklmnop',
        TELEGRAM_API_ROOT: telegram.apiRoot,
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        'telegram check failed: Telegram refused TELEGRAM_BOT_TOKEN',
      );
      expect(fs.readFileSync(path.join(configDir, 'config'), 'utf8')).toBe(text);
    } finally {
      await telegram.stop();
    }
  });

  it('--channel without its credentials in the environment exits 2 before any step', async () => {
    const { env, configDir } = dirs();
    const r = await runCli([...flags(model.url), '--channel', 'slack'], {
      ...env,
      MY_MODEL_KEY: KEY,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--channel slack takes its credentials from the environment: set SLACK_BOT_TOKEN, SLACK_APP_TOKEN',
    );
    expect(fs.existsSync(path.join(configDir, 'config'))).toBe(false);
  });
});

describe('./nanocell setup while the host runs', () => {
  it.runIf(bwrapWorks)(
    'runs in the host (no terminal there), adds the group to its store and says to restart it',
    async () => {
      const model = await startFakeOpenAIServer();
      const data = tempHome();
      const config = tempHome('nanocell-config-');
      const env = { NANOCELL_HOME: data.dir, NANOCELL_CONFIG_DIR: config.dir };
      const host = await startHost({
        ...env,
        NANOCELL_PROVIDER: 'openai',
        OPENAI_BASE_URL: model.url,
        NANOCELL_MODEL: 'fake-model',
        NANOCELL_RUNTIME: 'bwrap',
      });
      try {
        const r = await runCli(
          [
            'setup',
            '--provider',
            'openai',
            '--base-url',
            model.url,
            '--model',
            'fake-model',
            '--runtime',
            'bwrap',
            '--group',
            'family',
            '--policy',
            'read-only',
          ],
          env,
        );
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toContain('next: the host is running with the old settings; restart it');
        const groups = await runCli(['groups', 'list'], env);
        expect(groups.stdout).toMatch(/^family\t/m);
        // The host's environment is not this shell's: flags that read it are refused.
        const keyed = await runCli(
          ['setup', '--provider', 'openai', '--model', 'm', '--api-key-env', 'MY_MODEL_KEY'],
          { ...env, MY_MODEL_KEY: KEY },
        );
        expect(keyed.code).toBe(2);
        expect(keyed.stderr).toContain('the host is running, and --api-key-env and --channel read');
      } finally {
        await host.stop();
        await model.close();
        data.cleanup();
        config.cleanup();
      }
    },
  );
});

describe('./nanocell setup in a real terminal (a pty made by script(1))', () => {
  const hasScript = fs.existsSync('/usr/bin/script');
  it.runIf(hasScript)('asks what the flags left open, reading keystrokes in raw mode', async () => {
    const model = await startFakeOpenAIServer();
    const data = tempHome();
    const config = tempHome('nanocell-config-');
    try {
      // The command is fixed text; paths and the URL reach it through the environment. A pty
      // made by script(1) without a terminal on its stdin is 0 columns wide: give it a size.
      const command =
        'stty cols 100 rows 40 && exec "$SETUP_CLI" setup --provider openai --base-url "$SETUP_URL" --model fake-model --runtime auto --policy none';
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        cwd: REPO_ROOT,
        env: cliEnv({
          NANOCELL_HOME: data.dir,
          NANOCELL_CONFIG_DIR: config.dir,
          SETUP_CLI: CLI,
          SETUP_URL: model.url,
          TERM: 'xterm',
        }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let raw = '';
      let screen = '';
      let seen = 0;
      const changed: Array<() => void> = [];
      child.stdout.on('data', (c: Buffer) => {
        raw += c.toString();
        // Stripped as a whole: an escape sequence may be split across chunks.
        // eslint-disable-next-line no-control-regex
        screen = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
        changed.splice(0).forEach((f) => f());
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      const waitFor = async (text: string) => {
        const deadline = Date.now() + 60_000;
        while (screen.indexOf(text, seen) === -1) {
          if (Date.now() > deadline) throw new Error(`"${text}" never shown:\n${screen}`);
          await new Promise<void>((r) => {
            changed.push(r);
            setTimeout(r, 1000);
          });
        }
        seen = screen.indexOf(text, seen) + text.length;
      };
      await waitFor('API key');
      child.stdin.write('sk-typed-in-a-pty-0123\r');
      await waitFor('Connect chat platforms?');
      child.stdin.write('\r');
      await waitFor('Add a first group');
      child.stdin.write('n');
      await waitFor('next: ./nanocell start');
      child.stdin.end();
      expect(await exited).toBe(0);
      expect(screen).not.toContain('sk-typed-in-a-pty-0123');
      const text = fs.readFileSync(path.join(config.dir, 'config'), 'utf8');
      expect(text).toContain('OPENAI_API_KEY=sk-typed-in-a-pty-0123\n');
      expect(text).toContain('NANOCELL_RUNTIME=auto\n');
      expect(fs.existsSync(path.join(config.dir, 'policy', 'default.policy'))).toBe(true);
    } finally {
      await model.close();
      data.cleanup();
      config.cleanup();
    }
  });
});
