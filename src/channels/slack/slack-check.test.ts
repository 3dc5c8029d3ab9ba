import { afterEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../../test/support/fake-slack.js';
import { checkSlack } from './slack-check.js';

const BOT = 'xoxb-good';
const APP = 'xapp-good';

describe('checkSlack (doctor)', () => {
  let fake: FakeSlack | undefined;
  afterEach(async () => {
    await fake?.stop();
    fake = undefined;
  });
  const signal = () => AbortSignal.timeout(10_000);

  it('says the tokens are accepted, naming the bot and the workspace', async () => {
    fake = await FakeSlack.start(BOT, APP);

    expect(await checkSlack({ botToken: BOT, appToken: APP }, fake.apiUrl, signal())).toEqual({
      ok: true,
      detail: 'token accepted (bot @nanocell in Family)',
    });
  });

  it('says the bot token was refused and where to copy it, without showing it', async () => {
    fake = await FakeSlack.start(BOT, APP);

    const check = await checkSlack({ botToken: 'xoxb-old', appToken: APP }, fake.apiUrl, signal());

    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/refused SLACK_BOT_TOKEN \(invalid_auth\).*OAuth & Permissions/);
    expect(check.detail).not.toContain('xoxb-old');
  });

  it('says the app token was refused and how to make one', async () => {
    fake = await FakeSlack.start(BOT, APP);

    const check = await checkSlack({ botToken: BOT, appToken: 'xapp-old' }, fake.apiUrl, signal());

    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/refused SLACK_APP_TOKEN.*connections:write/);
  });

  it('says Slack could not be reached when nothing answers', async () => {
    fake = await FakeSlack.start(BOT, APP);
    const url = fake.apiUrl;
    await fake.stop();
    fake = undefined;

    const check = await checkSlack({ botToken: BOT, appToken: APP }, url, signal());

    expect(check).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/could not be reached/),
    });
  });
});
