import type { ImageMediaType } from '../agent/model-provider.js';

/** The largest image handed to a model (the providers' own cap is about this). */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/**
 * The image type the bytes really are (by their first bytes, never by the sender's word):
 * png, jpeg, gif or webp; undefined for anything else.
 */
export function sniffImageType(bytes: Buffer): ImageMediaType | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return 'image/jpeg';
  }
  const head = bytes.subarray(0, 12).toString('latin1');
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return 'image/gif';
  if (head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Why an image cannot go to the model, or undefined when it can. */
export function imageProblem(bytes: Buffer): string | undefined {
  if (bytes.length > MAX_IMAGE_BYTES) {
    return `it is ${bytes.length} bytes; images the model sees are at most ${MAX_IMAGE_BYTES} bytes`;
  }
  if (!sniffImageType(bytes)) return 'it is not a png, jpeg, gif or webp image';
  return undefined;
}
