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

  it('binds another chat to a group and unbinds it; the owner chats stay', async () => {
    const bind = await runCli(['groups', 'bind', 'main', '--chat', 'slack:C0123456789'], env);
    expect(bind.code, bind.stderr).toBe(0);
    expect(bind.stdout).toBe('main now answers slack:C0123456789\n');
    const twice = await runCli(['groups', 'bind', 'main', '--chat', 'slack:C0123456789'], env);
    expect(twice.stderr).toContain('already belongs to group "main"');
    const unbind = await runCli(['groups', 'unbind', 'slack:C0123456789'], env);
    expect(unbind.code, unbind.stderr).toBe(0);
    expect((await runCli(['groups', 'list'], env)).stdout).not.toContain('slack:');
    const own = await runCli(['groups', 'unbind', 'web:owner'], env);
    expect(own.code).toBe(1);
    expect(own.stderr).toContain("the owner's own chat");
  });

  it('pair prints a one-time code for a known platform and refuses anything else', async () => {
    const pair = await runCli(['pair', 'telegram'], env);
    expect(pair.code, pair.stderr).toBe(0);
    expect(pair.stdout).toMatch(/^ {4}pair [A-Z2-9]{8}$/m);
    expect(pair.stdout).toContain('telegram is off here: set TELEGRAM_BOT_TOKEN');
    const again = await runCli(['pair', 'telegram'], env);
    expect(again.stdout).not.toBe(pair.stdout); // a new code replaces the last
    const web = await runCli(['pair', 'web'], env);
    expect(web.code).toBe(2);
    expect(web.stderr).toMatch(/unknown channel "web"; pair one of: telegram, slack, discord/);
    expect((await runCli(['pair'], env)).code).toBe(2);
  });

  it('doctor shows a channel without credentials as off, with what to set', async () => {
    const doctor = await runCli(['doctor'], env);
    expect(doctor.stdout).toMatch(/^ok {3}channel telegram: off \(set TELEGRAM_BOT_TOKEN/m);
    expect(doctor.stdout).toMatch(/^ok {3}channel slack: off /m);
  });
});
