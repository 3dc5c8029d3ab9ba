import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.js';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

const TOKEN = 'fake-discord-bot-token';
const STRANGER = { id: '1100000000000000077', username: 'mallory' };
const STRANGER_DM = '1100000000000000078';

/** `nanocell start` with Discord on, against the fake Discord and the scripted model. */
describe('discord through the running host', () => {
  let model: FakeModelServer;
  let fake: FakeDiscord;
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
    fake = await FakeDiscord.start(TOKEN);
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      NANOCELL_MODEL_MAX_RETRIES: '0',
      DISCORD_BOT_TOKEN: TOKEN,
      DISCORD_API_URL: fake.apiUrl,
    };
    const added = await runCli(
      ['groups', 'add', 'family', '--chat', `discord:${fake.textChannelId}`, '--no-trigger'],
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

  const startWithDiscord = async () => {
    host = await startHost(env);
    await host.waitForLine(/discord connected/);
    return host;
  };

  it('answers in the channel after running a tool in the cell', async () => {
    await startWithDiscord();
    model.enqueue(
      reply().tool('bash', { command: 'echo 42 > answer.txt && cat answer.txt' }),
      reply().text('The answer is **42**.'),
    );

    const asked = fake.userSays('what is the answer?');

    // Streamed: the tool step shows first, then the message is edited into the answer.
    const preview = await fake.next('message', (m) => m.channelId === fake.textChannelId);
    expect(preview.content).toMatch(/^⚙ bash/);
    const answer = await fake.shows('The answer is **42**.', fake.textChannelId);
    expect(answer.kind).toBe('edit');
    expect(answer.id).toBe(preview.id);
    await fake.next('reaction', (r) => r.messageId === asked);
    const toolResult = JSON.stringify(model.requests[1]!.body!.messages);
    expect(toolResult).toContain('42');
    expect(JSON.stringify(model.requests[0]!.body!.messages)).toContain('what is the answer?');
    const file = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'answer.txt');
    expect(fs.readFileSync(file, 'utf8')).toBe('42\n');
  });

  it('never answers a chat bound to no group, and tells the owner once how to bind it', async () => {
    const started = await startWithDiscord();
    fake.userSays('hello? anyone?', STRANGER, STRANGER_DM);
    fake.userSays('hello again', STRANGER, STRANGER_DM);

    await expect.poll(async () => (await started.messages('owner')).length).toBeGreaterThan(0);
    const notices = (await started.messages('owner')).filter((m) => m.direction === 'out');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toContain(`nanocell groups add NAME --chat discord:dm-${STRANGER_DM}`);
    expect(model.requests).toHaveLength(0);
    await fake.userSays('ping from the family', undefined, fake.textChannelId);
    model.enqueue(reply().text('pong'));
    await fake.shows('pong', fake.textChannelId);
    // Nothing ever went to the stranger's DM.
    const toStranger = await Promise.race([
      fake.next('message', (m) => m.channelId === STRANGER_DM).then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 300)),
    ]);
    expect(toStranger).toBe(false);
  });

  it('pairs the owner in a DM; approvals arrive there as buttons and a tap runs the call', async () => {
    fs.mkdirSync(path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups', 'family.policy'),
      'ask write_file path="/workspace/group/plan.txt"\n',
    );
    await startWithDiscord();

    const pair = await runCli(['pair', 'discord'], env);
    expect(pair.code, pair.stderr).toBe(0);
    const code = /pair ([A-Z2-9]{8})/.exec(pair.stdout)?.[1];
    expect(code, pair.stdout).toBeDefined();
    fake.userSays(`pair ${code}`, fake.owner, fake.dmChannelId);
    const paired = await fake.next('message', (m) => m.channelId === fake.dmChannelId);
    expect(paired.content).toMatch(/^Paired: /);

    model.enqueue(
      reply().tool('write_file', { path: 'plan.txt', content: 'picnic' }),
      reply().text('The plan is written.'),
    );
    fake.userSays('write the plan');
    const question = await fake.next(
      'message',
      (m) => m.channelId === fake.dmChannelId && m.components.length > 0,
    );
    expect(question.content).toContain('family');
    expect(question.content).toContain('write_file');
    expect(question.content).toContain('plan.txt');
    const buttons = question.components.flatMap((row) => row.components);
    const approve = buttons.find((b) => /approve/i.test(b.label))!;

    // A tap by anyone but the owner is refused and runs nothing.
    const stranger = fake.click(question.id, approve.custom_id, STRANGER, fake.dmChannelId);
    const refused = await fake.next('callback', (c) => c.interactionId === stranger);
    expect(refused.content ?? '').toMatch(/only the owner/);

    fake.click(question.id, approve.custom_id, fake.owner, fake.dmChannelId);
    await fake.shows('The plan is written.', fake.textChannelId);
    const plan = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'plan.txt');
    expect(fs.readFileSync(plan, 'utf8')).toBe('picnic');
  });
});
