import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../../../test/support/fake-discord.js';
import { checkDiscord } from './discord-check.js';

describe('checkDiscord (doctor)', () => {
  let fake: FakeDiscord | undefined;
  afterEach(async () => {
    await fake?.stop();
    fake = undefined;
  });
  const signal = () => AbortSignal.timeout(10_000);

  it('says the token is accepted, naming the bot', async () => {
    fake = await FakeDiscord.start('good-token');

    expect(await checkDiscord('good-token', fake.apiUrl, signal())).toEqual({
      ok: true,
      detail: 'token accepted (bot nanocell)',
    });
  });

  it('says the token was refused and how to get a new one, without showing it', async () => {
    fake = await FakeDiscord.start('good-token');

    const check = await checkDiscord('stolen-or-old-token', fake.apiUrl, signal());

    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/refused DISCORD_BOT_TOKEN.*Reset Token/);
    expect(check.detail).not.toContain('stolen-or-old-token');
  });

  it('says Discord could not be reached when nothing answers', async () => {
    fake = await FakeDiscord.start('good-token');
    const url = fake.apiUrl;
    await fake.stop();
    fake = undefined;

    const check = await checkDiscord('good-token', url, signal());

    expect(check).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/could not be reached/),
    });
  });
});
