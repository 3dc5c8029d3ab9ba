/** Where and how to reach a mail server, from EMAIL_IMAP_URL or EMAIL_SMTP_URL. */
export interface MailServer {
  host: string;
  port: number;
  /** TLS from the first byte (imaps/smtps); otherwise STARTTLS, required off this machine. */
  secure: boolean;
  /** Plain imap/smtp to another machine must upgrade to TLS, or the password crosses in clear. */
  requireStartTls: boolean;
  user: string;
  pass: string;
}

const DEFAULT_PORTS: Record<string, number> = { imap: 143, imaps: 993, smtp: 587, smtps: 465 };

/**
 * The URL's parts (user and password percent-decoded). src/config.ts already checked the
 * form; this throws only on a bug. Error messages name the setting, never the password.
 */
export function parseMailUrl(url: string, setting: string): MailServer {
  const parsed = new URL(url);
  const scheme = parsed.protocol.replace(/:$/, '');
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[scheme];
  if (port === undefined) throw new RangeError(`${setting}: unknown scheme "${scheme}"`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    secure: scheme.endsWith('s'),
    requireStartTls: !scheme.endsWith('s') && !isLoopback(host),
    user: decodeURIComponent(parsed.username),
    pass: decodeURIComponent(parsed.password),
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
