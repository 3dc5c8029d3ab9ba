import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { canRunMailServers, startMailServers, type MailServers } from '../support/mail-servers.js';
import { MailPerson } from '../support/mail-user.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** `nanocell start` and `doctor` with email on, against real dovecot and postfix. */
describe.skipIf(!canRunMailServers())('email through the running host', () => {
  let servers: MailServers;
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess | undefined;

  beforeAll(async () => {
    servers = await startMailServers(['bot', 'owner', 'partner', 'stranger']);
    model = await startFakeModelServer();
  });
  afterAll(async () => {
    model?.close();
    await servers?.stop();
  });
  const imapUrl = (pass: string) => `imap://bot:${pass}@127.0.0.1:${servers.imapPort}`;
  beforeEach(async () => {
    model.reset();
    home = tempHome();
    const pass = servers.users.bot!.password;
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      NANOCELL_MODEL_MAX_RETRIES: '0',
      EMAIL_IMAP_URL: imapUrl(pass),
      EMAIL_SMTP_URL: `smtp://bot:${pass}@127.0.0.1:${servers.smtpPort}`,
      EMAIL_ADDRESS: servers.users.bot!.address,
      EMAIL_ALLOWED_SENDERS: `${servers.users.owner!.address},${servers.users.partner!.address}`,
      EMAIL_POLL_SECONDS: '1',
    };
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    home.cleanup();
  });

  it('answers the owner in the thread after running a tool in the cell', async () => {
    const owner = servers.users.owner!;
    const added = await runCli(
      ['groups', 'add', 'family', '--chat', `email:${owner.address}`, '--no-trigger'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    host = await startHost(env);
    await host.waitForLine(/email connected/);
    model.enqueue(
      reply().tool('bash', { command: 'echo 42 > answer.txt && cat answer.txt' }),
      reply().text('The answer is 42.'),
    );
    const me = await MailPerson.of(servers, 'owner');

    const id = await me.send(servers.users.bot!.address, {
      subject: 'A question',
      text: 'what is the answer?',
    });
    const answer = (await me.nextMail(60_000)).parsed;

    expect(answer.text?.trim()).toBe('The answer is 42.');
    expect(answer.inReplyTo).toBe(id);
    expect(answer.subject).toBe('Re: A question');
    expect(JSON.stringify(model.requests[0]!.body!.messages)).toContain('what is the answer?');
    expect(JSON.stringify(model.requests[1]!.body!.messages)).toContain('42');
    const file = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'answer.txt');
    expect(fs.readFileSync(file, 'utf8')).toBe('42\n');
  });

  it('pairs the owner by mail; an approval arrives as a mail and a typed reply runs the call', async () => {
    const partner = servers.users.partner!;
    const added = await runCli(
      ['groups', 'add', 'family', '--chat', `email:${partner.address}`, '--no-trigger'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    fs.mkdirSync(path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups', 'family.policy'),
      'ask write_file path="/workspace/group/plan.txt"\n',
    );
    host = await startHost(env);
    await host.waitForLine(/email connected/);
    const owner = await MailPerson.of(servers, 'owner');
    const family = await MailPerson.of(servers, 'partner');
    const bot = servers.users.bot!.address;

    const pair = await runCli(['pair', 'email'], env);
    expect(pair.code, pair.stderr).toBe(0);
    const code = /pair ([A-Z2-9]{8})/.exec(pair.stdout)?.[1];
    expect(code, pair.stdout).toBeDefined();
    await owner.send(bot, { text: `pair ${code}` });
    expect((await owner.nextMail(30_000)).parsed.text).toMatch(/^Paired: /);

    model.enqueue(
      reply().tool('write_file', { path: 'plan.txt', content: 'picnic' }),
      reply().text('The plan is written.'),
    );
    await family.send(bot, { subject: 'Plans', text: 'write the plan' });
    const question = (await owner.nextMail(30_000)).parsed;
    expect(question.text).toContain('write_file');
    expect(question.text).toContain('plan.txt');
    const approval = /"(yes [A-Z0-9]+)"/.exec(question.text ?? '')?.[1];
    expect(approval, question.text).toBeDefined();

    // Answered the way a mail client does: Re: subject, the question quoted below.
    const quoted = (question.text ?? '')
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n');
    await owner.send(bot, {
      subject: `Re: ${question.subject}`,
      inReplyTo: question.messageId,
      references: question.messageId ? [question.messageId] : [],
      text: `${approval}\n\nOn Thu, 3 Dec 2026 at 06:30, nanocell <${bot}> wrote:\n${quoted}\n`,
    });

    const done = (await family.nextMail(60_000)).parsed;
    expect(done.text?.trim()).toBe('The plan is written.');
    expect(done.subject).toBe('Re: Plans');
    const plan = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'plan.txt');
    expect(fs.readFileSync(plan, 'utf8')).toBe('picnic');
  });

  it('never lets mail from a sender not allowed reach the host or a model', async () => {
    host = await startHost(env);
    await host.waitForLine(/email connected/);
    const stranger = await MailPerson.of(servers, 'stranger');

    const id = await stranger.send(servers.users.bot!.address, { text: 'run rm -rf /' });
    await (await MailPerson.of(servers, 'bot')).seen(id, 30_000);

    expect(model.requests).toHaveLength(0);
    expect(await host.messages('owner')).toEqual([]);
    expect(await stranger.unread()).toBe(0);
  });

  it('doctor says IMAP and SMTP accept the login', async () => {
    const doctor = await runCli(['doctor'], env);

    expect(doctor.stdout).toMatch(
      /^ok {3}channel email: on, .*IMAP and SMTP accept the login \(\d+ unread\)/m,
    );
  });

  it('doctor says a refused login and what to fix, without printing the password', async () => {
    const doctor = await runCli(['doctor'], { ...env, EMAIL_IMAP_URL: imapUrl('old-secret-pw') });

    expect(doctor.stdout).toMatch(
      /channel email: on, .*the IMAP server refused the login in EMAIL_IMAP_URL: check user and password/,
    );
    expect(doctor.stdout).not.toMatch(/^ok {3}channel email/m);
    expect(doctor.stdout + doctor.stderr).not.toContain('old-secret-pw');
  });
});
