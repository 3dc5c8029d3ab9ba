import { ImapFlow } from 'imapflow';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { MailServers, MailUser } from './mail-servers.js';

const POLL_MS = 50;

async function withImap<T>(
  servers: MailServers,
  user: MailUser,
  use: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: servers.imapPort,
    secure: false,
    auth: { user: user.user, pass: user.password },
    logger: false,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    return await use(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** One mail as its recipient sees it, with the IMAP flags it has in their mailbox. */
export interface ReceivedMail {
  uid: number;
  parsed: ParsedMail;
}

/**
 * A person with a mailbox on the test servers: sends over authenticated SMTP and reads their
 * own INBOX over IMAP, seeing only mail that arrived after `mailboxOf` was called.
 */
export class MailPerson {
  private constructor(
    private readonly servers: MailServers,
    readonly user: MailUser,
    private nextUid: number,
  ) {}

  static async of(servers: MailServers, local: string): Promise<MailPerson> {
    const user = servers.users[local];
    if (!user) throw new Error(`no test mailbox ${local}`);
    const uidNext = await withImap(servers, user, async (c) => (c.mailbox ? c.mailbox.uidNext : 1));
    return new MailPerson(servers, user, uidNext);
  }

  get address(): string {
    return this.user.address;
  }

  /** Sends a mail and returns its Message-ID. */
  async send(to: string, mail: Omit<Mail.Options, 'to'> = {}): Promise<string> {
    const smtp = nodemailer.createTransport({
      url: this.servers.smtpUrl,
      auth: { user: this.user.user, pass: this.user.password },
    });
    try {
      const info = await smtp.sendMail({ from: this.address, to, ...mail });
      return info.messageId;
    } finally {
      smtp.close();
    }
  }

  /** The next mail to arrive in this person's INBOX. */
  async nextMail(timeoutMs = 15_000): Promise<ReceivedMail> {
    const found = await until(
      `no new mail for ${this.address}`,
      () =>
        withImap(this.servers, this.user, async (client) => {
          const uids = ((await client.search({ uid: `${this.nextUid}:*` }, { uid: true })) || [])
            .filter((uid) => uid >= this.nextUid)
            .sort((a, b) => a - b);
          const uid = uids[0];
          if (uid === undefined) return undefined;
          const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
          if (!message || !message.source) return undefined;
          return { uid, parsed: await simpleParser(message.source) };
        }),
      timeoutMs,
    );
    this.nextUid = found.uid + 1;
    return found;
  }

  /** Mail that arrived and was not read with nextMail yet (without waiting). */
  async unread(): Promise<number> {
    return withImap(this.servers, this.user, async (client) => {
      const uids = (await client.search({ uid: `${this.nextUid}:*` }, { uid: true })) || [];
      return uids.filter((uid) => uid >= this.nextUid).length;
    });
  }

  /** The IMAP flags of the mail with `messageId` in this person's INBOX (once it arrived). */
  async flagsOf(messageId: string, timeoutMs = 15_000): Promise<Set<string>> {
    return until(
      `mail ${messageId} not in ${this.address}'s INBOX`,
      () =>
        withImap(this.servers, this.user, async (client) => {
          const uids = await client.search({ header: { 'message-id': messageId } }, { uid: true });
          const uid = uids ? uids[0] : undefined;
          if (uid === undefined) return undefined;
          const message = await client.fetchOne(String(uid), { flags: true }, { uid: true });
          return message ? (message.flags ?? new Set<string>()) : undefined;
        }),
      timeoutMs,
    );
  }

  /** Resolves once the mail with `messageId` is \Seen in this person's INBOX. */
  async seen(messageId: string, timeoutMs = 15_000): Promise<void> {
    await until(
      `mail ${messageId} not marked \\Seen in ${this.address}'s INBOX`,
      async () => ((await this.flagsOf(messageId, timeoutMs)).has('\\Seen') ? true : undefined),
      timeoutMs,
    );
  }
}
