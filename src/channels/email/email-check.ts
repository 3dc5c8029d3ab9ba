import type { ChannelCheck } from '../registry.js';
import { imapClient, imapFailure, smtpFailure, smtpTransport } from './mail-connections.js';
import { parseMailUrl } from './mail-url.js';

/**
 * Whether the IMAP and SMTP servers take the logins in EMAIL_IMAP_URL and EMAIL_SMTP_URL,
 * for `doctor`. Never throws, and never shows a password: each failure is one line that
 * names the setting to fix.
 */
export async function checkEmail(
  imapUrl: string,
  smtpUrl: string,
  signal: AbortSignal,
): Promise<ChannelCheck> {
  const imap = parseMailUrl(imapUrl, 'EMAIL_IMAP_URL');
  const smtp = parseMailUrl(smtpUrl, 'EMAIL_SMTP_URL');
  const client = imapClient(imap);
  client.on('error', () => undefined);
  const abort = () => client.close();
  signal.addEventListener('abort', abort, { once: true });
  let unread: number;
  try {
    await client.connect();
    const status = await client.status('INBOX', { unseen: true });
    unread = status ? (status.unseen ?? 0) : 0;
    await client.logout();
  } catch (err) {
    client.close();
    return { ok: false, detail: imapFailure(err, imap.host) };
  } finally {
    signal.removeEventListener('abort', abort);
  }
  const transport = smtpTransport(smtp);
  try {
    await transport.verify();
  } catch (err) {
    return { ok: false, detail: smtpFailure(err, smtp.host) };
  } finally {
    transport.close();
  }
  return { ok: true, detail: `IMAP and SMTP accept the login (${unread} unread)` };
}
