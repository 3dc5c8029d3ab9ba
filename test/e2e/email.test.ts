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
    servers = await startMailServers(['bot', 'owner', 'stranger']);
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
      EMAIL_ALLOWED_SENDERS: servers.users.owner!.address,
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
