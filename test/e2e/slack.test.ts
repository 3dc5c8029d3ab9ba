import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack, type SlackEvent } from '../support/fake-slack.js';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

const BOT_TOKEN = 'xoxb-fake-e2e-bot-token';
const APP_TOKEN = 'xapp-fake-e2e-app-token';

/** Slack through the real CLI (`doctor`, `groups`, `nanocell start`) against the fake Slack. */
describe('slack from the CLI', () => {
  let home: ReturnType<typeof tempHome>;
  let fake: FakeSlack;
  let env: Record<string, string>;
  beforeEach(async () => {
    home = tempHome();
    fake = await FakeSlack.start(BOT_TOKEN, APP_TOKEN);
    env = {
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      SLACK_API_URL: fake.apiUrl,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
    };
  });
  afterEach(async () => {
    await fake.stop();
    home.cleanup();
  });

  it('doctor says both tokens are accepted, naming the bot and the workspace', async () => {
    const doctor = await runCli(['doctor'], env);

    expect(doctor.stdout).toMatch(
      /^ok {3}channel slack: on, .*token accepted \(bot @nanocell in Family\)/m,
    );
  });

  it('doctor says which token was refused and how to fix it, without printing it', async () => {
    const bot = await runCli(['doctor'], { ...env, SLACK_BOT_TOKEN: 'xoxb-an-old-one' });
    expect(bot.stdout).toMatch(/channel slack: on, .*refused SLACK_BOT_TOKEN/);
    expect(bot.stdout).not.toMatch(/^ok {3}channel slack/m);
    expect(bot.stdout + bot.stderr).not.toContain('xoxb-an-old-one');

    const app = await runCli(['doctor'], { ...env, SLACK_APP_TOKEN: 'xapp-an-old-one' });
    expect(app.stdout).toMatch(/channel slack: on, .*refused SLACK_APP_TOKEN.*connections:write/);
    expect(app.stdout + app.stderr).not.toContain('xapp-an-old-one');
  });

  it('binds a Slack channel and refuses an id that is not a Slack one', async () => {
    const bad = await runCli(['groups', 'add', 'family', '--chat', 'slack:general'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected slack:<channel id');

    const good = await runCli(
      ['groups', 'add', 'family', '--chat', `slack:${fake.channelId}`],
      env,
    );
    expect(good.code, good.stderr).toBe(0);
  });
});

/** `nanocell start` with Slack on, against the fake Slack and the scripted model. */
describe('slack through the running host', () => {
  let model: FakeModelServer;
  let fake: FakeSlack;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess | undefined;

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(async () => {
    model.reset();
    home = tempHome();
    fake = await FakeSlack.start(BOT_TOKEN, APP_TOKEN);
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      NANOCELL_MODEL_MAX_RETRIES: '0',
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: fake.apiUrl,
    };
    const added = await runCli(
      ['groups', 'add', 'family', '--chat', `slack:${fake.channelId}`, '--no-trigger'],
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

  /** Waits until the chat shows `text`: posted as it is, or a streamed preview updated into it. */
  const shows = async (channel: string, text: string) => {
    for (;;) {
      const seen = await fake.nextWhere(
        (e) => (e.kind === 'message' || e.kind === 'edit') && e.channel === channel,
      );
      if ((seen.kind === 'message' || seen.kind === 'edit') && seen.text === text) return seen;
    }
  };

  it('answers in the channel after running a tool in the cell', async () => {
    host = await startHost(env);
    await host.waitForLine(/slack connected/);
    model.enqueue(
      reply().tool('bash', { command: 'echo 42 > answer.txt && cat answer.txt' }),
      reply().text('The answer is **42**.'),
    );

    const asked = fake.userSays('what is the answer?');

    // Acknowledged once stored, and the stored message gets its ✅.
    await fake.next('ack', (a) => a.envelopeId === asked.envelopeId);
    await fake.next('reaction', (r) => r.ts === asked.ts && r.name === 'white_check_mark');
    // Streamed: the tool step shows first, then the message is updated into the answer (mrkdwn).
    const preview = await fake.next('message', (m) => m.channel === fake.channelId);
    expect(preview.text).toMatch(/bash/);
    const answer = (await shows(fake.channelId, 'The answer is *42*.')) as Extract<
      SlackEvent,
      { kind: 'edit' }
    >;
    expect(answer.kind).toBe('edit');
    expect(answer.ts).toBe(preview.ts);
    expect(JSON.stringify(model.requests[0]!.body!.messages)).toContain('what is the answer?');
    expect(JSON.stringify(model.requests[1]!.body!.messages)).toContain('42');
    const file = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'answer.txt');
    expect(fs.readFileSync(file, 'utf8')).toBe('42\n');
  });

  it('keeps answering after Slack asks it to reconnect', async () => {
    host = await startHost(env);
    await host.waitForLine(/slack connected/);
    const hello = fake.nextHello();
    fake.askToReconnect();
    await hello;
    model.enqueue(reply().text('still here'));

    fake.userSays('are you there?');

    await shows(fake.channelId, 'still here');
  });

  it('pairs the owner in a DM; approvals arrive there as buttons and a click runs the call', async () => {
    fs.mkdirSync(path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups', 'family.policy'),
      'ask write_file path="/workspace/group/plan.txt"\n',
    );
    host = await startHost(env);
    await host.waitForLine(/slack connected/);

    const pair = await runCli(['pair', 'slack'], env);
    expect(pair.code, pair.stderr).toBe(0);
    const code = /pair ([A-Z2-9]{8})/.exec(pair.stdout)?.[1];
    expect(code, pair.stdout).toBeDefined();
    fake.userSays(`pair ${code}`, { channel: fake.dmChannelId });
    const paired = await fake.next('message', (m) => m.channel === fake.dmChannelId);
    expect(paired.text).toMatch(/^Paired: /);

    model.enqueue(
      reply().tool('write_file', { path: 'plan.txt', content: 'picnic' }),
      reply().text('The plan is written.'),
    );
    fake.userSays('write the plan');
    const question = await fake.next(
      'message',
      (m) => m.channel === fake.dmChannelId && m.buttons.length > 0,
    );
    expect(question.text).toContain('family');
    expect(question.text).toContain('write_file');
    const approve = question.buttons.find((b) => /approve/i.test(b.text.text))!;

    // A click by anyone but the owner is refused, shown only to them, and runs nothing.
    const stranger = { id: 'U0STRANGER1', name: 'mallory' };
    fake.userClicks(question.ts, approve.action_id, approve.value ?? '', {
      channel: fake.dmChannelId,
      user: stranger,
    });
    const refused = await fake.next('ephemeral', (e) => e.user === stranger.id);
    expect(refused.text).toMatch(/only the owner/);

    fake.userClicks(question.ts, approve.action_id, approve.value ?? '', {
      channel: fake.dmChannelId,
    });
    await shows(fake.channelId, 'The plan is written.');
    const plan = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'plan.txt');
    expect(fs.readFileSync(plan, 'utf8')).toBe('picnic');
  });
});
