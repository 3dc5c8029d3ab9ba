import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunMailServers, startMailServers, type MailServers } from './mail-servers.js';

describe.skipIf(!canRunMailServers())('the test mail servers (real dovecot and postfix)', () => {
  let servers: MailServers;
  beforeAll(async () => {
    servers = await startMailServers();
  }, 60_000);
  afterAll(async () => {
    await servers?.stop();
  });

  it('delivers a mail sent over authenticated SMTP into the recipient IMAP mailbox', async () => {
    const { owner, bot } = servers.users;
    const smtp = nodemailer.createTransport({
      url: servers.smtpUrl,
      auth: { user: owner!.user, pass: owner!.password },
    });
    await smtp.sendMail({ from: owner!.address, to: bot!.address, subject: 'hi', text: 'hello' });
    smtp.close();

    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: servers.imapPort,
      secure: false,
      auth: { user: bot!.user, pass: bot!.password },
      logger: false,
    });
    await imap.connect();
    try {
      const lock = await imap.getMailboxLock('INBOX');
      try {
        for (let i = 0; i < 100; i++) {
          const status = await imap.status('INBOX', { messages: true });
          if (status && status.messages) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const status = await imap.status('INBOX', { messages: true });
        expect(status && status.messages, servers.logs()).toBe(1);
        const message = await imap.fetchOne('1', { envelope: true });
        expect(message && message.envelope?.subject).toBe('hi');
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
    }
  }, 60_000);

  it('refuses a wrong SMTP password', async () => {
    const smtp = nodemailer.createTransport({
      url: servers.smtpUrl,
      auth: { user: 'owner', pass: 'wrong' },
    });
    await expect(
      smtp.sendMail({ from: 'owner@x', to: servers.users.bot!.address, text: 'x' }),
    ).rejects.toThrow(/auth/i);
    smtp.close();
  });
});
