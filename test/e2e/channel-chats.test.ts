import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** Binding chats of the known channels, and `doctor`'s channel lines, through the real CLI. */
describe('channel chats from the CLI', () => {
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  beforeEach(() => {
    home = tempHome();
    env = {
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
    };
  });
  afterEach(() => home.cleanup());

  it('binds a Telegram chat and refuses an unknown channel or a malformed id', async () => {
    const bad = await runCli(['groups', 'add', 'family', '--chat', 'telegarm:123'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown channel "telegarm"; known channels: .*telegram/);
    const malformed = await runCli(['groups', 'add', 'family', '--chat', 'telegram:@fam'], env);
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain('expected telegram:<chat id');
    const good = await runCli(['groups', 'add', 'family', '--chat', 'telegram:-100123'], env);
    expect(good.code).toBe(0);
    const list = await runCli(['groups', 'list'], env);
    expect(list.stdout).toMatch(/family\t.*telegram:-100123/);
  });

  it('doctor shows a channel without credentials as off, with what to set', async () => {
    const doctor = await runCli(['doctor'], env);
    expect(doctor.stdout).toMatch(/^ok {3}channel telegram: off \(set TELEGRAM_BOT_TOKEN/m);
    expect(doctor.stdout).toMatch(/^ok {3}channel slack: off /m);
  });
});
