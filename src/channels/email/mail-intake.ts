import type { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import { describeSize } from '../attachment.js';
import type { ChannelHandlers, Receipt } from '../channel.js';
import { readMail, type ReadMail } from './inbound-mail.js';

/** Mails taken in per pass; more wait for the next pass, which starts at once. */
const MAX_PER_PASS = 50;
/** Message-IDs already handed to the host, so a mail whose \Seen flag was lost is not stored twice. */
const MAX_REMEMBERED_IDS = 500;
const SEEN = '\\Seen';

/** What a reply to one received mail needs. */
export interface IntakeMail {
  from: string;
  subject: string;
  messageId: string | null;
  references: string[];
}

export interface MailIntakeOptions {
  handlers: ChannelHandlers;
  allowed: ReadonlySet<string>;
  maxMailBytes: number;
  maxAttachmentBytes: number;
  log: Logger;
  /** A mail the host stored: the thread the next reply belongs in. */
  received(mail: ReadMail): void;
  /** Send `text` back to the sender of `mail` (a refusal's reason). */
  answer(mail: IntakeMail, text: string): Promise<void>;
}

/**
 * Takes unread INBOX mail to the host, one pass at a time. A mail is marked \Seen only once
 * the host answered for it; when the host throws, it stays unread and is tried again at the
 * next poll (`retry`), not at every new mail, so a broken store is not hammered.
 */
export class MailIntake {
  private running: Promise<void> | null = null;
  private pending: { client: ImapFlow; retry: boolean } | null = null;
  private closed = false;
  private client: ImapFlow | null = null;
  /** UIDs the host threw on, in the current connection (UIDs are per mailbox session). */
  private readonly failed = new Set<number>();
  private readonly delivered = new Set<string>();

  constructor(private readonly options: MailIntakeOptions) {}

  /** Start a pass, or queue one after the running pass; never throws. */
  check(client: ImapFlow | null, { retry }: { retry: boolean }): void {
    if (!client || this.closed) return;
    if (this.running) {
      this.pending = { client, retry: retry || (this.pending?.retry ?? false) };
      return;
    }
    this.running = this.pass(client, retry).finally(() => {
      this.running = null;
      const next = this.pending;
      this.pending = null;
      if (next) this.check(next.client, next);
    });
  }

  /**
   * Nothing more reaches the host after this. Waits (at most `waitMs`) for the mail in hand,
   * so one the host just stored is still marked \Seen rather than delivered again next start.
   */
  async close(waitMs = 5000): Promise<void> {
    this.closed = true;
    this.pending = null;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.running,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
  }

  private async pass(client: ImapFlow, retry: boolean): Promise<void> {
    if (client !== this.client) {
      this.client = client;
      this.failed.clear();
    }
    try {
      // NOOP makes the server look at the mailbox again: a SEARCH alone may not see new mail.
      await client.noop();
      const unseen = (await client.search({ seen: false }, { uid: true })) || [];
      const due = unseen.filter((uid) => retry || !this.failed.has(uid));
      this.options.log.debug({ unseen: unseen.length, due: due.length, retry }, 'email inbox pass');
      for (const uid of due.slice(0, MAX_PER_PASS)) {
        if (this.closed || !client.usable) return;
        await this.takeIn(client, uid);
      }
      if (due.length > MAX_PER_PASS) this.pending ??= { client, retry: false };
    } catch (err) {
      if (!this.closed) {
        this.options.log.warn({ err }, 'email inbox pass failed; tried again at the next poll');
      }
    }
  }

  private async takeIn(client: ImapFlow, uid: number): Promise<void> {
    const { log, maxMailBytes } = this.options;
    const meta = await client.fetchOne(
      String(uid),
      { flags: true, size: true, envelope: true },
      { uid: true },
    );
    if (!meta || meta.flags?.has(SEEN)) return;
    // The server's parse of the From header decides first: a stranger's mail is never
    // downloaded or parsed here. The full parse below must agree.
    const claimed = meta.envelope?.from?.[0]?.address?.trim().toLowerCase() ?? '';
    if (!this.options.allowed.has(claimed)) {
      log.info(
        { uid, from: claimed.slice(0, 254) },
        'email from a sender not allowed: marked seen, not read',
      );
      return this.markSeen(client, uid);
    }
    if ((meta.size ?? 0) > maxMailBytes) {
      log.warn(
        { uid, bytes: meta.size, limitBytes: maxMailBytes },
        'email over the size limit not read; marked seen',
      );
      await this.tooLarge(meta.envelope, meta.size ?? 0);
      return this.markSeen(client, uid);
    }
    const full = await client.fetchOne(
      String(uid),
      { source: { maxLength: maxMailBytes } },
      { uid: true },
    );
    if (!full || !full.source) return;
    const reading = await readMail(full.source, this.options.maxAttachmentBytes);
    if (!reading.ok) {
      log.warn({ uid, reason: reading.reason }, 'email not readable; marked seen');
      return this.markSeen(client, uid);
    }
    const mail = reading.mail;
    if (!this.options.allowed.has(mail.from) || mail.from !== claimed) {
      log.info(
        { uid, from: mail.from },
        'email from a sender not allowed: marked seen, not answered',
      );
      return this.markSeen(client, uid);
    }
    if (mail.automatic) {
      log.info(
        { uid, from: mail.from },
        'automatic email (auto-reply, bounce or list): marked seen, not answered',
      );
      return this.markSeen(client, uid);
    }
    if (mail.messageId && this.delivered.has(mail.messageId)) return this.markSeen(client, uid);
    if (mail.text === '' && mail.media.length === 0) {
      log.info({ uid, from: mail.from }, 'empty email: marked seen');
      return this.markSeen(client, uid);
    }
    let receipt: Receipt;
    try {
      receipt = await this.options.handlers.onMessage({
        channel: 'email',
        chatId: mail.from,
        sender: mail.from,
        senderName: mail.fromName,
        text: mail.text,
        media: mail.media,
      });
    } catch (err) {
      this.failed.add(uid);
      log.error(
        { err, uid, chatId: mail.from },
        'email not taken in by the host; stays unread, tried again at the next poll',
      );
      return;
    }
    this.failed.delete(uid);
    if (receipt.status === 'stored') {
      this.remember(mail.messageId);
      this.options.received(mail);
    } else if (receipt.status === 'refused') {
      await this.options.answer(mail, receipt.reason).catch((err: unknown) => {
        log.warn({ err, chatId: mail.from }, 'email refusal not sent');
      });
    }
    await this.markSeen(client, uid);
  }

  /** An allowed sender learns that their mail was too large to read; anyone else nothing. */
  private async tooLarge(
    envelope:
      { from?: Array<{ address?: string }>; subject?: string; messageId?: string } | undefined,
    bytes: number,
  ): Promise<void> {
    const from = envelope?.from?.[0]?.address?.trim().toLowerCase() ?? '';
    const text = `Your mail (${describeSize(bytes)}) is over the ${describeSize(this.options.maxMailBytes)} this assistant reads, so it was not read. Please send it again without the large files.`;
    const messageId =
      envelope?.messageId && /^<[^<>\s]{1,250}>$/.test(envelope.messageId)
        ? envelope.messageId
        : null;
    await this.options
      .answer(
        { from, subject: (envelope?.subject ?? '').slice(0, 300), messageId, references: [] },
        text,
      )
      .catch((err: unknown) =>
        this.options.log.warn({ err, chatId: from }, 'email size notice not sent'),
      );
  }

  private async markSeen(client: ImapFlow, uid: number): Promise<void> {
    await client.messageFlagsAdd(String(uid), [SEEN], { uid: true });
  }

  private remember(messageId: string | null): void {
    if (!messageId) return;
    this.delivered.add(messageId);
    for (const oldest of this.delivered) {
      if (this.delivered.size <= MAX_REMEMBERED_IDS) break;
      this.delivered.delete(oldest);
    }
  }
}
