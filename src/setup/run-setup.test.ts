import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBase, type Base } from '../app.js';
import { writeConfigFile } from '../cli/config.js';
import type { RuntimeVerdict } from '../cli/doctor-runtimes.js';
import { configFileReader, loadConfig } from '../config.js';
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from '../../test/support/fake-openai-server.js';
import { FakeTelegram } from '../../test/support/fake-telegram.js';
import { tempHome } from '../../test/support/temp-home.js';
import { runSetup } from './run-setup.js';
import { parseSetupFlags, type SetupFlags } from './setup-flags.js';
import { clackPrompts } from './setup-prompts.js';

const KEY = 'sk-wizard-0123456789abcdef';
const BOT_TOKEN = '4242:wizard-token-abcdefghijklmnop';
const KEYS = { enter: '\r', down: '\x1b[B', space: ' ', clearLine: '\x15', ctrlC: '\x03' };

/** What the wizard draws, without colours and cursor moves, with a wait for a text to appear. */
class Screen extends Writable {
  text = '';
  private seen = 0;
  private waiters: Array<() => void> = [];

  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    // eslint-disable-next-line no-control-regex
    this.text += chunk.toString().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    this.waiters.splice(0).forEach((w) => w());
    done();
  }

  /** Resolves once `needle` is drawn after what the last wait found (each question once). */
  async waitFor(needle: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.text.indexOf(needle, this.seen);
      if (at !== -1) {
        this.seen = at + needle.length;
        return;
      }
      if (Date.now() > deadline) throw new Error(`"${needle}" never drawn; screen:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

const VERDICTS: RuntimeVerdict[] = [
  { name: 'bwrap', group: 'available', detail: 'bubblewrap 0.8.0; enforces: all', selected: false },
  { name: 'docker', group: 'broken', detail: 'docker is not running', selected: false },
];

describe('nanocell setup, interactive (clack prompts driven by keystrokes)', () => {
  let model: FakeOpenAIServer;
  let telegram: FakeTelegram;
  const dirs: Array<{ cleanup: () => void }> = [];
  const bases: Base[] = [];
  beforeAll(async () => {
    model = await startFakeOpenAIServer();
    telegram = await FakeTelegram.start(BOT_TOKEN);
  });
  afterAll(async () => {
    await model.close();
    await telegram.stop();
  });
  afterEach(() => {
    bases.splice(0).forEach((b) => b.close());
    dirs.splice(0).forEach((d) => d.cleanup());
  });

  function wizard(
    flags: SetupFlags,
    configText?: string,
    options: { interactive?: boolean; env?: Record<string, string> } = {},
  ) {
    const home = tempHome();
    const owner = tempHome('nanocell-config-');
    dirs.push(home, owner);
    const env = { NANOCELL_HOME: home.dir, NANOCELL_CONFIG_DIR: owner.dir };
    const file = path.join(owner.dir, 'config');
    const base = openBase(loadConfig(env, () => undefined));
    bases.push(base);
    const input = new PassThrough();
    const screen = new Screen();
    const done = runSetup(flags, {
      base,
      configFile: file,
      configText,
      writeConfigFile,
      configWith: (text) => loadConfig(env, (f) => (f === file ? text : configFileReader(f))),
      env: (name) => options.env?.[name],
      surveyRuntimes: () => Promise.resolve(VERDICTS),
      prompts: options.interactive === false ? undefined : clackPrompts(input, screen),
      out: screen,
      err: screen,
      hostRunning: false,
      checkTimeoutMs: 5000,
    });
    return { input, screen, done, file, owner: owner.dir, base };
  }

  it('asks each step in order, checks the key and the token, writes the file, the policy and the group', async () => {
    model.requireApiKey(KEY);
    const w = wizard(parseSetupFlags([]) as SetupFlags, `TELEGRAM_API_ROOT=${telegram.apiRoot}\n`);
    const answer = async (question: string, keys: string) => {
      await w.screen.waitFor(question);
      w.input.write(keys);
    };
    await answer('Which model API?', KEYS.down + KEYS.enter);
    await answer('Base URL of the server', KEYS.clearLine + model.url + KEYS.enter);
    await answer('Model name', 'fake-model' + KEYS.enter);
    await answer('API key', KEY + KEYS.enter);
    await w.screen.waitFor('model: openai fake-model');
    await answer('Which runtime isolates the cells?', KEYS.enter);
    await answer('Connect chat platforms?', KEYS.space + KEYS.enter);
    await answer('telegram: TELEGRAM_BOT_TOKEN', BOT_TOKEN + KEYS.enter);
    await w.screen.waitFor('telegram: token accepted');
    await answer('Pair your own telegram account now?', KEYS.enter);
    await answer('Add a first group', KEYS.enter);
    await answer('Group name', 'family' + KEYS.enter);
    await answer('Its chat, as CHANNEL:CHAT_ID', KEYS.enter);
    await answer('A first policy for every group?', KEYS.down + KEYS.enter);

    expect(await w.done).toBe(0);
    const text = fs.readFileSync(w.file, 'utf8');
    expect(text).toBe(
      [
        `TELEGRAM_API_ROOT=${telegram.apiRoot}`,
        'NANOCELL_PROVIDER=openai',
        `OPENAI_BASE_URL=${model.url}`,
        'NANOCELL_MODEL=fake-model',
        `OPENAI_API_KEY=${KEY}`,
        'NANOCELL_RUNTIME=bwrap',
        `TELEGRAM_BOT_TOKEN=${BOT_TOKEN}`,
        '',
      ].join('\n'),
    );
    // Masked input: neither secret is ever drawn.
    expect(w.screen.text).not.toContain(KEY);
    expect(w.screen.text).not.toContain(BOT_TOKEN);
    expect(w.screen.text).toContain('next: ./nanocell start');

    const policy = fs.readFileSync(path.join(w.owner, 'policy', 'default.policy'), 'utf8');
    expect(policy).toContain('deny write_file');
    const group = w.base.store.groups.byName('family');
    expect(group).toBeDefined();
    expect(w.base.store.groups.forChat('web', 'family')?.id).toBe(group!.id);

    // The printed code pairs: the owner's account on telegram is claimed with it.
    const code = /pair ([A-Z0-9]{6,})/.exec(w.screen.text)?.[1];
    expect(code).toBeDefined();
    expect(w.base.store.owners.pair('telegram', '77', '77', code!, new Date()).ok).toBe(true);
  });

  it('Ctrl-C at the first question stops with exit 1 and writes nothing', async () => {
    const w = wizard(parseSetupFlags([]) as SetupFlags);
    await w.screen.waitFor('Which model API?');
    w.input.write(KEYS.ctrlC);
    expect(await w.done).toBe(1);
    expect(w.screen.text).toContain('setup cancelled');
    expect(fs.existsSync(w.file)).toBe(false);
  });

  it('flags answer their steps and only the rest is asked', async () => {
    const flags = parseSetupFlags([
      '--provider',
      'openai',
      '--base-url',
      model.url,
      '--model',
      'fake-model',
      '--no-check',
      '--runtime',
      'bwrap',
      '--no-group',
      '--policy',
      'none',
    ]) as SetupFlags;
    const w = wizard(flags);
    await w.screen.waitFor('API key');
    w.input.write(KEYS.enter); // none: a local server
    await w.screen.waitFor('Connect chat platforms?');
    w.input.write(KEYS.enter);
    expect(await w.done).toBe(0);
    expect(w.screen.text).not.toContain('Which model API?');
    expect(w.screen.text).not.toContain('Add a first group');
    expect(fs.readFileSync(w.file, 'utf8')).not.toContain('OPENAI_API_KEY');
  });

  it('run again from flags, keeps the model the file names for the same provider only', async () => {
    const args = ['--api-key-env', 'K', '--no-check', '--runtime', 'auto', '--no-group'];
    const same = wizard(
      parseSetupFlags(['--provider', 'anthropic', ...args, '--policy', 'none']) as SetupFlags,
      'NANOCELL_PROVIDER=anthropic\nNANOCELL_MODEL=claude-opus-9\n',
      { interactive: false, env: { K: 'sk-ant-kept-model-test' } },
    );
    expect(await same.done).toBe(0);
    expect(fs.readFileSync(same.file, 'utf8')).toContain('NANOCELL_MODEL=claude-opus-9\n');

    const other = wizard(
      parseSetupFlags(['--provider', 'anthropic', ...args, '--policy', 'none']) as SetupFlags,
      'NANOCELL_PROVIDER=openai\nNANOCELL_MODEL=llama3.2\n',
      { interactive: false, env: { K: 'sk-ant-kept-model-test' } },
    );
    expect(await other.done).toBe(0);
    expect(fs.readFileSync(other.file, 'utf8')).toContain('NANOCELL_MODEL=claude-sonnet-5-5\n');
    expect(other.screen.text).not.toContain('sk-ant-kept-model-test');
  });

  it('keeps a default.policy the owner edited unless told to replace it', async () => {
    const flags = (extra: string[]) =>
      parseSetupFlags([
        '--provider',
        'openai',
        '--model',
        'm',
        '--no-check',
        '--runtime',
        'auto',
        '--no-group',
        '--policy',
        'read-only',
        ...extra,
      ]) as SetupFlags;
    const first = wizard(flags([]), undefined, { interactive: false });
    const policy = path.join(first.owner, 'policy', 'default.policy');
    fs.mkdirSync(path.dirname(policy), { recursive: true });
    fs.writeFileSync(policy, 'deny bash command="rm *"\n');
    expect(await first.done).toBe(0);
    expect(first.screen.text).toContain('(pass --yes to replace it)');
    expect(fs.readFileSync(policy, 'utf8')).toBe('deny bash command="rm *"\n');
  });

  it('a refused key is said, asked again, and only the accepted one is saved', async () => {
    model.requireApiKey(KEY);
    const w = wizard(
      parseSetupFlags([
        '--provider',
        'openai',
        '--model',
        'fake-model',
        '--base-url',
        model.url,
      ]) as SetupFlags,
    );
    await w.screen.waitFor('API key');
    w.input.write('sk-wrong-key-000' + KEYS.enter);
    await w.screen.waitFor('model check failed');
    await w.screen.waitFor('The model did not answer as expected.');
    w.input.write(KEYS.enter); // Change the answers and try again
    await w.screen.waitFor('API key');
    w.input.write(KEY + KEYS.enter);
    await w.screen.waitFor('Which runtime isolates the cells?');
    w.input.write(KEYS.ctrlC); // stop here: the model step is saved already
    expect(await w.done).toBe(1);
    const text = fs.readFileSync(w.file, 'utf8');
    expect(text).toContain(`OPENAI_API_KEY=${KEY}\n`);
    expect(text).not.toContain('sk-wrong-key-000');
    expect(text).not.toContain('NANOCELL_RUNTIME');
    expect(w.screen.text).not.toContain('sk-wrong-key-000');
  });
});
