import type { ImapFlow } from 'imapflow';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Logger } from 'pino';
import {
  ChannelUnsupportedError,
  type Channel,
  type ChannelCapabilities,
  type ChannelHandlers,
  type OutboundMessage,
  type SentMessage,
} from '../channel.js';
import { EmailThreads } from './email-threads.js';
import { imapClient, imapFailure, smtpFailure, smtpTransport } from './mail-connections.js';
import { parseMailUrl, type MailServer } from './mail-url.js';
import { composeMail } from './outbound-mail.js';
import { MailIntake, type IntakeMail } from './mail-intake.js';

/** A mail larger than this is not downloaded at all (logged, marked seen). */
export const DEFAULT_MAX_MAIL_BYTES = 25 * 1024 * 1024;
const DEFAULT_RECONNECT_MS = { first: 1000, max: 60_000 };
const ADDRESS = /^[^@\s:]{1,64}@[A-Za-z0-9.-]{1,190}$/;

export interface EmailChannelOptions {
  /** `imap[s]://user:pass@host:port` (EMAIL_IMAP_URL). */
  imapUrl: string;
  /** `smtp[s]://user:pass@host:port` (EMAIL_SMTP_URL). */
  smtpUrl: string;
  /** The assistant's own address: the From of every mail it sends. */
  address: string;
  /** Lower-case addresses whose mail is a turn; mail from anyone else is never answered. */
  allowedSenders: string[];
  /** How often the inbox is checked besides IMAP IDLE (and failed mail retried). */
  pollMs: number;
  maxAttachmentBytes: number;
  /** The data dir, for `email-threads.json`. */
  home: string;
  log: Logger;
  maxMailBytes?: number;
  reconnectMs?: { first: number; max: number };
  /** The subject of a mail that answers no earlier mail (a task result, a first message). */
  freshSubject?: string;
}

/** The mail servers did not let the assistant in (a refused login, a server not reachable). */
export class EmailStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmailStartError';
  }
}

export type EmailState =
  | { state: 'stopped' }
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'reconnecting'; reason: string }
  | { state: 'failed'; reason: string };

/**
 * The email channel: a chat is one correspondent's address. Unread (not \Seen) INBOX mail is
 * read over IMAP (IDLE for new mail, plus a poll), and each mail is marked \Seen only after
 * the host's receipt: stored or ignored says nothing back, refused answers with the reason.
 * Mail from anyone not in `allowedSenders` is marked \Seen without being downloaded: it never
 * reaches the host and is never answered.
 * Replies go out over SMTP in the thread of the correspondent's last mail. Email has no
 * buttons, edits or typing indicator.
 */
export class EmailChannel implements Channel {
  readonly name = 'email';
  readonly capabilities: ChannelCapabilities = {
    edit: false,
    actions: false,
    attachments: true,
    typing: false,
  };
  private readonly imap: MailServer;
  private readonly smtp: MailServer;
  private readonly allowed: ReadonlySet<string>;
  private readonly threads: EmailThreads;
  private client: ImapFlow | null = null;
  private transport: Transporter<SMTPTransport.SentMessageInfo> | null = null;
  private intake: MailIntake | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelayMs: number;
  private current: EmailState = { state: 'stopped' };

  constructor(private readonly options: EmailChannelOptions) {
    this.imap = parseMailUrl(options.imapUrl, 'EMAIL_IMAP_URL');
    this.smtp = parseMailUrl(options.smtpUrl, 'EMAIL_SMTP_URL');
    // Never its own address: a mail the assistant sent itself would start a loop.
    const own = options.address.toLowerCase();
    this.allowed = new Set(
      options.allowedSenders.map((a) => a.toLowerCase()).filter((a) => a !== own),
    );
    this.threads = new EmailThreads(options.home, options.log);
    this.reconnectDelayMs = this.reconnectMs.first;
  }

  /** For `doctor` and the start-up line. */
  status(): EmailState {
    return this.current;
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    if (this.intake) return;
    this.current = { state: 'connecting' };
    const transport = smtpTransport(this.smtp);
    let client: ImapFlow;
    try {
      client = await this.connect().catch((err: unknown) => {
        throw new EmailStartError(imapFailure(err, this.imap.host), { cause: err });
      });
      await transport.verify().catch(async (err: unknown) => {
        await client.logout().catch(() => client.close());
        throw new EmailStartError(smtpFailure(err, this.smtp.host), { cause: err });
      });
    } catch (err) {
      transport.close();
      this.current = { state: 'failed', reason: (err as Error).message };
      throw err;
    }
    this.transport = transport;
    this.intake = new MailIntake({
      handlers,
      allowed: this.allowed,
      maxMailBytes: this.options.maxMailBytes ?? DEFAULT_MAX_MAIL_BYTES,
      maxAttachmentBytes: this.options.maxAttachmentBytes,
      log: this.options.log,
      received: (mail) => {
        if (mail.messageId)
          this.threads.received(mail.from, { ...mail, messageId: mail.messageId });
      },
      answer: (mail, text) => this.answer(mail, text),
    });
    this.attach(client);
    this.pollTimer = setInterval(
      () => this.intake?.check(this.client, { retry: true }),
      this.options.pollMs,
    );
    this.options.log.info(
      { address: this.options.address, imap: this.imap.host },
      'email channel connected',
    );
  }

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    const transport = this.transport;
    if (!transport) throw new Error('email channel cannot send: it is not started');
    if (!ADDRESS.test(chatId))
      throw new RangeError(`"${chatId.slice(0, 40)}" is not an email chat id`);
    // Only people the assistant may hear from get mail: a bound chat cannot mail the world.
    if (!this.allowed.has(chatId.toLowerCase())) {
      throw new Error(
        `email to ${chatId} not sent: add the address to EMAIL_ALLOWED_SENDERS first`,
      );
    }
    const mail = composeMail(
      this.options.address,
      chatId,
      message,
      this.threads.get(chatId.toLowerCase()),
      this.freshSubject,
    );
    return { id: await this.deliver(transport, mail) };
  }

  async edit(): Promise<void> {
    throw new ChannelUnsupportedError(this.name, 'edit');
  }

  async typing(): Promise<void> {
    throw new ChannelUnsupportedError(this.name, 'show typing');
  }

  async stop(): Promise<void> {
    const intake = this.intake;
    this.intake = null;
    await intake?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.pollTimer = this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    const transport = this.transport;
    this.transport = null;
    this.current = { state: 'stopped' };
    transport?.close();
    if (client) {
      await client.logout().catch((err: unknown) => {
        this.options.log.debug({ err }, 'email IMAP logout failed; connection closed');
        client.close();
      });
    }
  }

  private get reconnectMs() {
    return this.options.reconnectMs ?? DEFAULT_RECONNECT_MS;
  }

  private get freshSubject(): string {
    return this.options.freshSubject ?? 'A message from your assistant';
  }

  /** A logged-in client with INBOX open; imapflow then IDLEs by itself when it is quiet. */
  private async connect(): Promise<ImapFlow> {
    const client = imapClient(this.imap);
    // imapflow emits 'error' for a broken socket; unheard, that would end the host.
    client.on('error', (err: Error) =>
      this.options.log.warn({ err }, 'email IMAP connection error'),
    );
    try {
      await client.connect();
      await client.mailboxOpen('INBOX');
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  private attach(client: ImapFlow): void {
    this.client = client;
    this.current = { state: 'connected' };
    this.reconnectDelayMs = this.reconnectMs.first;
    client.on('exists', () => this.intake?.check(client, { retry: false }));
    client.on('close', () => this.onClose(client));
    this.intake?.check(client, { retry: true });
  }

  private onClose(client: ImapFlow): void {
    if (this.client !== client) return;
    this.client = null;
    this.current = { state: 'reconnecting', reason: 'the IMAP connection closed' };
    this.options.log.warn(
      { retryInMs: this.reconnectDelayMs },
      'email IMAP connection closed; reconnecting',
    );
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, this.reconnectMs.max);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    if (!this.intake) return;
    try {
      const client = await this.connect();
      if (!this.intake) {
        await client.logout().catch(() => client.close());
        return;
      }
      this.attach(client);
      this.options.log.info('email IMAP reconnected');
    } catch (err) {
      const reason = imapFailure(err, this.imap.host);
      this.current = { state: 'reconnecting', reason };
      this.options.log.warn(
        { reason, retryInMs: this.reconnectDelayMs },
        'email IMAP reconnect failed',
      );
      this.scheduleReconnect();
    }
  }

  /** A reply to one received mail (a refusal, a mail too large to read). */
  private async answer(mail: IntakeMail, text: string): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    const thread = mail.messageId
      ? {
          subject: mail.subject,
          messageId: mail.messageId,
          references: [...mail.references, mail.messageId],
        }
      : undefined;
    await this.deliver(
      transport,
      composeMail(this.options.address, mail.from, { text }, thread, this.freshSubject),
    );
  }

  private async deliver(
    transport: Transporter<SMTPTransport.SentMessageInfo>,
    mail: Parameters<Transporter['sendMail']>[0],
  ): Promise<string> {
    const info = await transport.sendMail(mail);
    if (info.rejected.length > 0) {
      throw new Error(
        `the SMTP server did not take the mail for ${String(mail.to)}: ${info.response.slice(0, 200)}`,
      );
    }
    return info.messageId;
  }
}
