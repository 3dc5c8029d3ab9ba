import type { InboundMedia } from '../channel.js';

/** The largest message body with files (a 5 MB image is about 6.7 MB in base64). */
export const MAX_UPLOAD_BODY_BYTES = 8 * 1024 * 1024;
export const MAX_UPLOAD_FILES = 4;

const EXAMPLE = '"files": [{"name": "cat.png", "type": "image/png", "data": "<base64>"}]';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The `files` of a posted message: each `{name, type, data}` with the bytes in base64. An
 * `image/*` type is offered to the model as an image, `audio/*` as a voice note, anything else
 * as a document; the host checks the bytes again. Returns a message saying what is wrong.
 */
export function parseUploads(files: unknown): InboundMedia[] | string {
  if (files === undefined) return [];
  if (!Array.isArray(files)) return `"files" must be a list like ${EXAMPLE}`;
  if (files.length > MAX_UPLOAD_FILES) return `at most ${MAX_UPLOAD_FILES} files per message`;
  const out: InboundMedia[] = [];
  for (const [i, file] of files.entries()) {
    if (typeof file !== 'object' || file === null)
      return `files[${i}] must be an object like ${EXAMPLE}`;
    const { name, type, data } = file as Record<string, unknown>;
    if (typeof name !== 'string' || name.length > 128) {
      return `files[${i}].name must be a file name of at most 128 characters`;
    }
    if (typeof type !== 'string' || !/^[a-z]+\/[a-z0-9][a-z0-9.+-]{0,100}$/i.test(type)) {
      return `files[${i}].type must be a MIME type like image/png`;
    }
    if (typeof data !== 'string' || data === '' || !BASE64.test(data)) {
      return `files[${i}].data must be the file's bytes in base64`;
    }
    const mime = type.toLowerCase();
    const kind = mime.startsWith('image/')
      ? 'image'
      : mime.startsWith('audio/')
        ? 'voice'
        : 'document';
    out.push({ kind, name, mime, bytes: Buffer.from(data, 'base64') });
  }
  return out;
}
