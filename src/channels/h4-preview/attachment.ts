import type { Attachment } from './channel.js';

/** The largest file the host hands a channel (platforms cap lower; they refuse on send). */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

const MIME = /^[a-z]+\/[a-z0-9][a-z0-9.+-]{0,100}$/;
// Control characters, path separators and characters that reorder text on screen.
// eslint-disable-next-line no-control-regex
const BAD_NAME_CHAR = /[\u0000-\u001f\u007f/\\\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/;

/**
 * An attachment from bytes the host already read (from the group folder, through the safe
 * file module, or made by a tool): a plain file name, a MIME type and at most `maxBytes`.
 */
export function makeAttachment(
  name: string,
  mime: string,
  bytes: Buffer,
  maxBytes = MAX_ATTACHMENT_BYTES,
): { ok: true; attachment: Attachment } | { ok: false; reason: string } {
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.length > 128 ||
    BAD_NAME_CHAR.test(name)
  ) {
    return {
      ok: false,
      reason: `attachment name "${name.slice(0, 40)}": use a plain file name (no folders or control characters, at most 128 characters)`,
    };
  }
  if (!MIME.test(mime)) {
    return {
      ok: false,
      reason: `attachment ${name}: "${mime.slice(0, 40)}" is not a MIME type like image/png`,
    };
  }
  if (bytes.length > maxBytes) {
    return {
      ok: false,
      reason: `attachment ${name} is ${bytes.length} bytes; the limit is ${maxBytes} bytes`,
    };
  }
  return { ok: true, attachment: { name, mime, bytes } };
}

/** "12 KB" for a line of text. */
export function describeSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
