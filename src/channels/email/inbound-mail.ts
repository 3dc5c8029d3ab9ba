import { simpleParser, type Attachment as ParsedAttachment, type ParsedMail } from 'mailparser';
import { describeSize } from '../attachment.js';
import type { InboundMedia, InboundMediaKind } from '../channel.js';
import { stripQuoted } from './quoted-text.js';

/** More text than any person writes in a mail is cut here (a pasted log, a newsletter). */
export const MAX_TEXT_CHARS = 20_000;
const MAX_NAME_CHARS = 100;
const MAX_SUBJECT_CHARS = 300;
const MAX_FILES = 10;
const MAX_IDS = 20;
/** What the HTML-to-text converter may read: a mail of only HTML is still a mail. */
const MAX_HTML_CHARS = 2 * 1024 * 1024;
const ADDRESS = /^[^@\s<>()[\],;:"]{1,64}@[A-Za-z0-9.-]{1,190}$/;
const MESSAGE_ID = /^<[^<>\s]{1,250}>$/;
const MIME = /^[a-z]+\/[a-z0-9][a-z0-9.+-]{0,100}$/;
const REPLY_PREFIX = /^\s*(re|aw|sv|antw|wg|fwd?)\s*:/i;

/** A mail as the channel takes it in: who wrote, what, and how to answer in its thread. */
export interface ReadMail {
  /** The From address, lower case. The header is the sender's claim; see the README. */
  from: string;
  fromName: string;
  subject: string;
  /** `<id@host>` or null when the mail had none (or a malformed one). */
  messageId: string | null;
  /** The thread so far (its References), oldest first, bounded. */
  references: string[];
  /** An auto-reply, bounce or list mail: never a turn (no mail loops with a vacation responder). */
  automatic: boolean;
  text: string;
  media: InboundMedia[];
}

export type MailReading = { ok: true; mail: ReadMail } | { ok: false; reason: string };

/**
 * Parse an untrusted raw mail (already capped in size by the caller). Never throws: a mail
 * that cannot be read is a reason to log. Attachments over `maxAttachmentBytes`, and any
 * past the tenth, are dropped with a line in the text saying so.
 */
export async function readMail(raw: Buffer, maxAttachmentBytes: number): Promise<MailReading> {
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, {
      maxHtmlLengthToParse: MAX_HTML_CHARS,
      skipTextToHtml: true,
      skipImageLinks: true,
    });
  } catch (err) {
    return { ok: false, reason: `not a readable mail (${(err as Error).message.slice(0, 100)})` };
  }
  const sender = parsed.from?.value.find((a) => a.address);
  const from = sender?.address?.trim().toLowerCase() ?? '';
  if (!ADDRESS.test(from)) return { ok: false, reason: 'no usable From address' };
  const subject = oneLine(parsed.subject ?? '').slice(0, MAX_SUBJECT_CHARS);
  const notes: string[] = [];
  const media = takeMedia(parsed.attachments, maxAttachmentBytes, notes);
  return {
    ok: true,
    mail: {
      from,
      fromName: oneLine(sender?.name ?? '').slice(0, MAX_NAME_CHARS) || from,
      subject,
      messageId: messageIdOf(parsed.messageId),
      references: referencesOf(parsed.references),
      automatic: isAutomatic(parsed),
      text: [bodyText(subject, parsed.text ?? ''), ...notes].filter(Boolean).join('\n'),
      media,
    },
  };
}

/**
 * The subject and what the sender wrote. A reply's subject ("Re: ...") says nothing new and
 * would break a typed answer such as "yes K3F9", so only a fresh subject is kept.
 */
function bodyText(subject: string, body: string): string {
  let own = stripQuoted(body);
  if (own.length > MAX_TEXT_CHARS) {
    own = `${own.slice(0, MAX_TEXT_CHARS)}\n[mail cut at ${MAX_TEXT_CHARS} characters]`;
  }
  const fresh = subject !== '' && !REPLY_PREFIX.test(subject) && !own.startsWith(subject);
  return [fresh ? subject : '', own].filter(Boolean).join('\n\n');
}

function takeMedia(
  attachments: ParsedAttachment[],
  maxBytes: number,
  notes: string[],
): InboundMedia[] {
  const media: InboundMedia[] = [];
  // Images the HTML shows inline (logos in a signature) are part of the layout, not files.
  const files = attachments.filter((a) => !a.related);
  for (const [i, file] of files.entries()) {
    const name = safeName(file.filename) || `attachment-${i + 1}`;
    if (i >= MAX_FILES) {
      notes.push(`[file dropped: ${name}: at most ${MAX_FILES} files are taken from one mail]`);
      continue;
    }
    const bytes = Buffer.isBuffer(file.content) ? file.content : Buffer.alloc(0);
    if (bytes.length > maxBytes) {
      notes.push(
        `[file dropped: ${name} is ${describeSize(bytes.length)}; the limit is ${describeSize(maxBytes)}]`,
      );
      continue;
    }
    const mime = (file.contentType ?? '').toLowerCase();
    const safeMime = MIME.test(mime) ? mime : 'application/octet-stream';
    media.push({ kind: kindOf(safeMime), name, mime: safeMime, bytes });
  }
  return media;
}

function kindOf(mime: string): InboundMediaKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/')) return 'voice';
  return 'document';
}

/** RFC 3834 auto-replies, bounces and mailing lists. */
function isAutomatic(parsed: ParsedMail): boolean {
  const header = (key: string) => {
    const value = parsed.headers.get(key);
    return typeof value === 'string' ? value.trim().toLowerCase() : '';
  };
  const auto = header('auto-submitted');
  if (auto !== '' && auto !== 'no') return true;
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(header('precedence'))) return true;
  // mailparser folds List-* headers into one `list` value; the raw lines say what was there.
  return parsed.headerLines.some((h) => h.key === 'list-id' || h.key === 'x-autoreply');
}

function messageIdOf(id: string | undefined): string | null {
  const trimmed = id?.trim() ?? '';
  return MESSAGE_ID.test(trimmed) ? trimmed : null;
}

function referencesOf(refs: string[] | string | undefined): string[] {
  const list = typeof refs === 'string' ? refs.split(/\s+/) : (refs ?? []);
  return list
    .map((r) => r.trim())
    .filter((r) => MESSAGE_ID.test(r))
    .slice(-MAX_IDS);
}

// Control characters and characters that reorder text on screen: a name or subject is one line.
// eslint-disable-next-line no-control-regex
const NOT_ONE_LINE = /[\u0000-\u001f\u007f\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]+/g;

function oneLine(text: string): string {
  return text.replace(NOT_ONE_LINE, ' ').trim();
}

function safeName(name: string | undefined): string {
  return (name ?? '')
    .replace(/[^\p{L}\p{N} ._()-]/gu, '_')
    .replace(/^\.+/, '')
    .slice(0, 100)
    .trim();
}
