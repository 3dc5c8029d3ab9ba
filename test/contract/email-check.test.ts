import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEmail } from '../../src/channels/email/email-check.js';
import { canRunMailServers, startMailServers, type MailServers } from '../support/mail-servers.js';
import { MailPerson } from '../support/mail-user.js';

/** `doctor`'s live check of the mail logins, against real dovecot and postfix. */
describe.skipIf(!canRunMailServers())('checkEmail (doctor)', () => {
  let servers: MailServers;
  beforeAll(async () => {
    servers = await startMailServers(['bot', 'owner']);
  }, 60_000);
  afterAll(async () => {
    await servers?.stop();
  });
  const signal = () => AbortSignal.timeout(20_000);
  const imap = (pass: string) => `imap://bot:${pass}@127.0.0.1:${servers.imapPort}`;
  const smtp = (pass: string) => `smtp://bot:${pass}@127.0.0.1:${servers.smtpPort}`;

  it('says both logins are accepted and how much mail is unread', async () => {
    const owner = await MailPerson.of(servers, 'owner');
    const id = await owner.send(servers.users.bot!.address, { text: 'one unread' });
    await (await MailPerson.of(servers, 'bot')).flagsOf(id);
    const pass = servers.users.bot!.password;

    expect(await checkEmail(imap(pass), smtp(pass), signal())).toEqual({
      ok: true,
      detail: 'IMAP and SMTP accept the login (1 unread)',
    });
  });

  it('names the setting whose login was refused, never the password', async () => {
    const pass = servers.users.bot!.password;

    const badImap = await checkEmail(imap('not-the-pw-1'), smtp(pass), signal());
    const badSmtp = await checkEmail(imap(pass), smtp('not-the-pw-2'), signal());

    expect(badImap).toEqual({
      ok: false,
      detail: 'the IMAP server refused the login in EMAIL_IMAP_URL: check user and password',
    });
    expect(badSmtp).toEqual({
      ok: false,
      detail: 'the SMTP server refused the login in EMAIL_SMTP_URL: check user and password',
    });
  });

  it('says a server could not be reached, naming the setting', async () => {
    const pass = servers.users.bot!.password;

    const check = await checkEmail('imap://bot:x@127.0.0.1:1', smtp(pass), signal());

    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/IMAP server 127\.0\.0\.1 could not be reached .*EMAIL_IMAP_URL/);
  });
});
