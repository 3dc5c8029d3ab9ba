import { htmlToText } from './html-text.js';

/**
 * A fetched body as text the model can read: HTML stripped to its visible text, other text
 * decoded as it is, anything else refused. The charset comes from the Content-Type header,
 * then a byte-order mark, then (for HTML) a <meta> in the first 1024 bytes, else UTF-8.
 */
export type WebPage =
  | { ok: true; kind: 'html' | 'text'; title: string; text: string; charset: string }
  | { ok: false; reason: string };

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const TEXT_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/x-ndjson',
  'application/rss+xml',
  'application/atom+xml',
]);

export function webPage(body: Buffer, contentType: string | undefined): WebPage {
  const { mime, charset: declared } = parseContentType(contentType ?? '');
  const html = HTML_TYPES.has(mime) || (mime === '' && looksLikeHtml(body));
  const text =
    html ||
    mime.startsWith('text/') ||
    TEXT_TYPES.has(mime) ||
    /\+(json|xml)$/.test(mime) ||
    (mime === '' && !body.subarray(0, 1024).includes(0));
  if (!text) {
    return {
      ok: false,
      reason: `the answer is ${mime || 'binary data'}, not text or HTML: web_fetch reads pages; to download a file, use curl in the cell (with an egress rule for its host)`,
    };
  }
  const label = bomCharset(body) ?? declared ?? (html ? metaCharset(body) : undefined) ?? 'utf-8';
  let decoder: InstanceType<typeof TextDecoder>;
  let charset = label;
  try {
    decoder = new TextDecoder(label);
  } catch {
    decoder = new TextDecoder('utf-8');
    charset = `utf-8 (the page named an unknown charset "${label.slice(0, 40)}")`;
  }
  const decoded = decoder.decode(body);
  if (!html) return { ok: true, kind: 'text', title: '', text: decoded, charset };
  const page = htmlToText(decoded);
  return { ok: true, kind: 'html', title: page.title, text: page.text, charset };
}

export function parseContentType(value: string): { mime: string; charset?: string } {
  const [type = '', ...params] = value.split(';');
  let charset: string | undefined;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*"?([A-Za-z0-9._:-]{1,40})"?\s*$/i.exec(p);
    if (m) charset = m[1]!.toLowerCase();
  }
  return { mime: type.trim().toLowerCase(), ...(charset ? { charset } : {}) };
}

function bomCharset(body: Buffer): string | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return 'utf-8';
  if (body[0] === 0xfe && body[1] === 0xff) return 'utf-16be';
  if (body[0] === 0xff && body[1] === 0xfe) return 'utf-16le';
  return undefined;
}

function metaCharset(body: Buffer): string | undefined {
  const head = body.subarray(0, 1024).toString('latin1');
  const m =
    /<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})/i.exec(head) ??
    /<meta[^>]+content\s*=\s*["'][^"']*charset=([A-Za-z0-9._:-]{1,40})/i.exec(head);
  return m?.[1]?.toLowerCase();
}

function looksLikeHtml(body: Buffer): boolean {
  return /^\s*(<!doctype html|<html|<head|<body)/i.test(body.subarray(0, 512).toString('latin1'));
}
