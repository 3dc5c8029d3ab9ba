import { afterEach, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../test/support/fake-telegram.js';
import { checkTelegram } from './telegram-check.js';

const TOKEN = '123456:fake-token-for-the-check-test';

describe('checkTelegram (doctor)', () => {
  let fake: FakeTelegram | undefined;
  afterEach(async () => {
    await fake?.stop();
    fake = undefined;
  });
  const signal = () => AbortSignal.timeout(10_000);

  it('says the token is accepted, naming the bot', async () => {
    fake = await FakeTelegram.start(TOKEN);

    expect(await checkTelegram(TOKEN, fake.apiRoot, signal())).toEqual({
      ok: true,
      detail: 'token accepted (bot @nanocell_bot)',
    });
  });

  it('says the token was refused and how to get a new one, without showing it', async () => {
    fake = await FakeTelegram.start(TOKEN);

    const check = await checkTelegram('999:stolen-or-old-token-xxxxxxxx', fake.apiRoot, signal());

    expect(check).toEqual({
      ok: false,
      detail: 'Telegram refused TELEGRAM_BOT_TOKEN: ask @BotFather for a fresh one (/token)',
    });
  });

  it('says Telegram could not be reached when nothing answers, without the token', async () => {
    fake = await FakeTelegram.start(TOKEN);
    const root = fake.apiRoot;
    await fake.stop();
    fake = undefined;

    const check = await checkTelegram(TOKEN, root, signal());

    expect(check).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/could not be reached/),
    });
    expect(check.detail).not.toContain(TOKEN);
  });
});
