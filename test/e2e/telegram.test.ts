import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OFFSET_FILE } from '../../src/channels/telegram/telegram-offset.js';
import { FakeTelegram, type TelegramEvent } from '../support/fake-telegram.js';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

const TOKEN = '123456:fake-telegram-e2e-token-abcdefgh';
/** The family's group chat (a supergroup: negative id); the owner's private chat is fake.chatId. */
const GROUP_CHAT = -1001234567890;

/** Telegram through the real CLI (`doctor`, `groups`), against the fake Bot API. */
describe('telegram from the CLI', () => {
  let home: ReturnType<typeof tempHome>;
  let fake: FakeTelegram;
  let env: Record<string, string>;
  beforeEach(async () => {
    home = tempHome();
    fake = await FakeTelegram.start(TOKEN);
    env = {
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_BOT_TOKEN: TOKEN,
    };
  });
  afterEach(async () => {
    await fake.stop();
    home.cleanup();
  });

  it('doctor says the bot token is accepted, naming the bot', async () => {
    const doctor = await runCli(['doctor'], env);

    expect(doctor.stdout).toMatch(
      /^ok {3}channel telegram: on, .*token accepted \(bot @nanocell_bot\)/m,
    );
  });

  it('doctor says a refused token and how to fix it, without printing the token', async () => {
    const old = '999999:an-old-revoked-token-xxxxxxxxxx';
    const doctor = await runCli(['doctor'], { ...env, TELEGRAM_BOT_TOKEN: old });

    expect(doctor.stdout).toMatch(/channel telegram: on, .*refused TELEGRAM_BOT_TOKEN.*@BotFather/);
    expect(doctor.stdout).not.toMatch(/^ok {3}channel telegram/m);
    expect(doctor.stdout + doctor.stderr).not.toContain(old);
    expect(doctor.stdout + doctor.stderr).not.toContain('an-old-revoked');
  });

  it('binds a Telegram chat and refuses an id that is not a Telegram one', async () => {
    const bad = await runCli(['groups', 'add', 'family', '--chat', 'telegram:@family'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected telegram:<chat id');

    const good = await runCli(
      ['groups', 'add', 'family', '--chat', 'telegram:-1001234567890'],
      env,
    );
    expect(good.code, good.stderr).toBe(0);
  });
});

/** `nanocell start` with Telegram on, against the fake Bot API and the scripted model. */
describe('telegram through the running host', () => {
  let model: FakeModelServer;
  let fake: FakeTelegram;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess | undefined;

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(async () => {
    seen = [];
    model.reset();
    home = tempHome();
    fake = await FakeTelegram.start(TOKEN);
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      NANOCELL_MODEL_MAX_RETRIES: '0',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
    };
    const added = await runCli(
      ['groups', 'add', 'family', '--chat', `telegram:${GROUP_CHAT}`, '--no-trigger'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    await fake.stop();
    home.cleanup();
  });

  /** Waits until the chat shows `text`: sent as it is, or a streamed preview edited into it. */
  let seen: TelegramEvent[] = [];
  const shows = async (text: string, chatId = String(GROUP_CHAT)) => {
    for (;;) {
      const event = await fake.nextWhere(
        (e) => (e.kind === 'message' || e.kind === 'edit') && e.chatId === chatId,
      );
      seen.push(event);
      if ((event.kind === 'message' || event.kind === 'edit') && event.text === text) return event;
    }
  };

  it('answers in the chat after running a tool in the cell', async () => {
    host = await startHost(env);
    await host.waitForLine(/telegram connected/);
    model.enqueue(
      reply().tool('bash', { command: 'echo hi > /workspace/group/x.txt && cat x.txt' }),
      reply().text('Wrote **x.txt** for you.'),
    );

    const asked = fake.userSays('please write x.txt', { chatId: GROUP_CHAT });

    // Stored: the message gets its 👍 (the receipt), and the offset is saved.
    await fake.next('reaction', (r) => r.messageId === asked && r.emoji === '👍');
    const answer = await shows('Wrote x.txt for you.');
    expect(answer.raw).toBe('Wrote <b>x.txt</b> for you.');
    expect(JSON.stringify(model.requests[0]!.body!.messages)).toContain('please write x.txt');
    expect(JSON.stringify(model.requests[1]!.body!.messages)).toContain('hi');
    const file = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'x.txt');
    expect(fs.readFileSync(file, 'utf8')).toBe('hi\n');
    expect(fs.existsSync(path.join(env.NANOCELL_HOME!, OFFSET_FILE))).toBe(true);
  });

  it('says nothing to a chat bound to no group', async () => {
    host = await startHost(env);
    await host.waitForLine(/telegram connected/);

    const stranger = { id: 31337, first_name: 'Mallory' };
    const asked = fake.userSays('who are you?', { chatId: 31337, from: stranger });
    // The owner's next message is answered; nothing was said to the stranger before it.
    model.enqueue(reply().text('hello owner'));
    fake.userSays('hi', { chatId: GROUP_CHAT });
    await shows('hello owner');

    const toStranger = [...seen, ...fake.pending()].filter(
      (e) => (e.kind === 'message' || e.kind === 'typing') && e.chatId === '31337',
    );
    expect(toStranger).toEqual([]);
    expect(fake.pending().some((e) => e.kind === 'reaction' && e.messageId === asked)).toBe(false);
  });

  it('pairs the owner in a private chat; an approval arrives there as buttons and a press runs the call', async () => {
    fs.mkdirSync(path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups', 'family.policy'),
      'ask write_file path="/workspace/group/plan.txt"\n',
    );
    host = await startHost(env);
    await host.waitForLine(/telegram connected/);
    const dm = String(fake.chatId);

    const pair = await runCli(['pair', 'telegram'], env);
    expect(pair.code, pair.stderr).toBe(0);
    const code = /pair ([A-Z2-9]{8})/.exec(pair.stdout)?.[1];
    expect(code, pair.stdout).toBeDefined();
    fake.userSays(`pair ${code}`);
    expect((await fake.next('message', (m) => m.chatId === dm)).text).toMatch(/^Paired: /);

    model.enqueue(
      reply().tool('write_file', { path: 'plan.txt', content: 'picnic' }),
      reply().text('The plan is written.'),
    );
    fake.userSays('write the plan', { chatId: GROUP_CHAT });
    const question = await fake.next('message', (m) => m.chatId === dm && m.buttons.length > 0);
    expect(question.text).toContain('write_file');
    const approve = question.buttons.flat().find((b) => /approve/i.test(b.text))!;
    expect(approve, JSON.stringify(question.buttons)).toBeDefined();

    // A press carrying data that was never on the message is refused and runs nothing.
    const forged = fake.userClicks(question.messageId, 'nc:7');
    expect(await fake.next('answer', (a) => a.callbackQueryId === forged)).toMatchObject({
      showAlert: true,
      text: expect.stringMatching(/not one I showed/),
    });

    const pressed = fake.userClicks(question.messageId, approve.callback_data);
    expect(await fake.next('answer', (a) => a.callbackQueryId === pressed)).toMatchObject({
      showAlert: false,
    });
    await shows('The plan is written.');
    const plan = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'plan.txt');
    expect(fs.readFileSync(plan, 'utf8')).toBe('picnic');
  });
});
