import type Mail from 'nodemailer/lib/mailer/index.js';
import type { OutboundMessage } from '../channel.js';
import type { Thread } from './email-threads.js';

const MAX_SUBJECT_CHARS = 200;

/**
 * The mail for one outbound message: to the correspondent, in the thread of the last mail
 * they sent (Re: its subject, In-Reply-To and References), as plain text with an escaped
 * HTML alternative, files as MIME attachments. Marked auto-generated (RFC 3834) so the
 * correspondent's vacation responder does not answer it.
 */
export function composeMail(
  from: string,
  to: string,
  message: OutboundMessage,
  thread: Thread | undefined,
  freshSubject: string,
): Mail.Options {
  const subject = thread ? replySubject(thread.subject, freshSubject) : freshSubject;
  return {
    from,
    to,
    subject,
    text: message.text,
    html: textToHtml(message.text),
    ...(thread ? { inReplyTo: thread.messageId, references: thread.references } : {}),
    headers: { 'Auto-Submitted': 'auto-generated' },
    attachments: (message.attachments ?? []).map((a) => ({
      filename: a.name,
      content: a.bytes,
      contentType: a.mime,
    })),
  };
}

function replySubject(subject: string, freshSubject: string): string {
  const base = subject.trim() === '' ? freshSubject : subject.trim();
  const cut = base.length > MAX_SUBJECT_CHARS ? `${base.slice(0, MAX_SUBJECT_CHARS)}…` : base;
  return /^re\s*:/i.test(cut) ? cut : `Re: ${cut}`;
}

/** Model output is untrusted: every character that means something in HTML is escaped. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function textToHtml(text: string): string {
  const body = escapeHtml(text).replace(/\r?\n/g, '<br>\n');
  return `<!doctype html><html><body><div style="font-family:sans-serif">${body}</div></body></html>`;
}
