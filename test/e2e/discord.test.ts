import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

const TOKEN = 'fake-discord-bot-token';

/** Discord through the real CLI, against the fake Discord on 127.0.0.1. */
describe('discord from the CLI', () => {
  let home: ReturnType<typeof tempHome>;
  let fake: FakeDiscord;
  let env: Record<string, string>;
  beforeEach(async () => {
    home = tempHome();
    fake = await FakeDiscord.start(TOKEN);
    env = {
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      DISCORD_API_URL: fake.apiUrl,
    };
  });
  afterEach(async () => {
    await fake.stop();
    home.cleanup();
  });

  it('doctor says the bot token is accepted, naming the bot', async () => {
    const doctor = await runCli(['doctor'], { ...env, DISCORD_BOT_TOKEN: TOKEN });

    expect(doctor.stdout).toMatch(/^ok {3}channel discord: on, .*token accepted \(bot nanocell\)/m);
  });

  it('doctor says a refused token and how to fix it, without printing the token', async () => {
    const doctor = await runCli(['doctor'], { ...env, DISCORD_BOT_TOKEN: 'an-old-token' });

    expect(doctor.stdout).toMatch(/channel discord: on, .*refused DISCORD_BOT_TOKEN/);
    expect(doctor.stdout).not.toMatch(/^ok {3}channel discord/m);
    expect(doctor.stdout + doctor.stderr).not.toContain('an-old-token');
  });

  it('binds a Discord channel and refuses an id that is not a Discord one', async () => {
    const bad = await runCli(['groups', 'add', 'family', '--chat', 'discord:general'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected discord:<channel id');

    const good = await runCli(
      ['groups', 'add', 'family', '--chat', `discord:${fake.textChannelId}`],
      env,
    );
    expect(good.code, good.stderr).toBe(0);
  });
});
