import { ImapFlow } from 'imapflow';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { MailServer } from './mail-url.js';

const CONNECT_TIMEOUT_MS = 30_000;

/** An IMAP client for the bot's mailbox; imapflow's own logging off (it logs raw lines). */
export function imapClient(server: MailServer): ImapFlow {
  return new ImapFlow({
    host: server.host,
    port: server.port,
    secure: server.secure,
    doSTARTTLS: server.requireStartTls ? true : undefined,
    auth: { user: server.user, pass: server.pass },
    logger: false,
    // IDLE soon after the last command: new mail is then pushed within moments.
    autoIdleDelay: 1000,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
  });
}

export function smtpTransport(server: MailServer): Transporter<SMTPTransport.SentMessageInfo> {
  return nodemailer.createTransport({
    host: server.host,
    port: server.port,
    secure: server.secure,
    requireTLS: server.requireStartTls,
    auth: { user: server.user, pass: server.pass },
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: 60_000,
  });
}

/** Why the IMAP login failed, as the owner can act on it; never the password. */
export function imapFailure(err: unknown, host: string): string {
  if ((err as { authenticationFailed?: unknown }).authenticationFailed === true) {
    return 'the IMAP server refused the login in EMAIL_IMAP_URL: check user and password';
  }
  return `the IMAP server ${host} could not be reached (${detailOf(err)}): check the host and port in EMAIL_IMAP_URL`;
}

/** Why the SMTP login failed, as the owner can act on it; never the password. */
export function smtpFailure(err: unknown, host: string): string {
  const code = (err as { code?: unknown }).code;
  const responseCode = (err as { responseCode?: unknown }).responseCode;
  if (code === 'EAUTH' || responseCode === 535) {
    return 'the SMTP server refused the login in EMAIL_SMTP_URL: check user and password';
  }
  return `the SMTP server ${host} could not be reached (${detailOf(err)}): check the host and port in EMAIL_SMTP_URL`;
}

function detailOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return (typeof code === 'string' ? `${code}: ${message}` : message).slice(0, 160);
}
