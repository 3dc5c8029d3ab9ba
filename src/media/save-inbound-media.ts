import type { InboundMedia, InboundMediaKind } from '../channels/channel.js';
import { SafeDir } from '../fs/safe-dir.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../groups/group-folder.js';
import { imageProblem, sniffImageType } from './image-check.js';
import { inboxName, numbered } from './inbox-name.js';

/** Where inbound files land inside a group folder. */
export const INBOX_DIR = 'inbox';

/** Files kept of one message; the rest are noted as dropped. */
export const MAX_MEDIA_PER_MESSAGE = 10;

/**
 * An inbound file as the message row keeps it: `path` (inside the group folder) when it was
 * saved, `dropped` (why, for the model and the log) when it was not.
 */
export interface SavedMedia {
  kind: InboundMediaKind;
  /** The sender's name for it, bounded (for the model's note only; never a path). */
  name: string;
  mime: string;
  size: number;
  path?: string;
  dropped?: string;
}

export interface MediaLimits {
  /** NANOCELL_MAX_ATTACHMENT_MB in bytes: the cap of any one document or voice note. */
  maxAttachmentBytes: number;
}

/**
 * Save a message's files under `inbox/` of the group folder at `groupDir`, through the safe
 * folder module (no link followed, new files only, private modes). An image whose bytes are
 * not png/jpeg/gif/webp or are over 5 MB, and any file over the cap, is not saved: it is
 * recorded as dropped with the reason. Never throws for bad input.
 */
export function saveInboundMedia(
  groupDir: string,
  media: readonly InboundMedia[],
  limits: MediaLimits,
  now: Date,
): SavedMedia[] {
  if (media.length === 0) return [];
  return SafeDir.with(groupDir, (dir) => {
    const inbox = dir.ensureDir(INBOX_DIR, PRIVATE_DIR_MODE);
    try {
      return media.map((m, i): SavedMedia => {
        const name = printable(m.name);
        const base = {
          kind: m.kind,
          name,
          mime: printable(m.mime).slice(0, 100),
          size: m.bytes.length,
        };
        if (i >= MAX_MEDIA_PER_MESSAGE) {
          return { ...base, dropped: `only ${MAX_MEDIA_PER_MESSAGE} files of a message are kept` };
        }
        const problem = sizeOrTypeProblem(m, limits);
        if (problem) return { ...base, dropped: problem };
        if (!inbox.ok) return { ...base, dropped: `the inbox folder is unusable: ${inbox.reason}` };
        const mime = m.kind === 'image' ? (sniffImageType(m.bytes) ?? base.mime) : base.mime;
        const wanted = inboxName(m.name, m.kind, mime, now);
        for (let n = 1; n <= 20; n++) {
          const file = numbered(wanted, n);
          const made = inbox.dir.createFile(file, m.bytes, PRIVATE_FILE_MODE);
          if (!made.ok) return { ...base, mime, dropped: made.reason };
          if (made.created) return { ...base, mime, path: `${INBOX_DIR}/${file}` };
        }
        return { ...base, mime, dropped: 'too many files of that name in the inbox' };
      });
    } finally {
      if (inbox.ok) inbox.dir.close();
    }
  });
}

function sizeOrTypeProblem(m: InboundMedia, limits: MediaLimits): string | undefined {
  if (m.kind === 'image') return imageProblem(m.bytes);
  if (m.bytes.length > limits.maxAttachmentBytes) {
    return `it is ${m.bytes.length} bytes; files are kept up to ${limits.maxAttachmentBytes} bytes (NANOCELL_MAX_ATTACHMENT_MB)`;
  }
  return undefined;
}

/** A name or type from a sender, safe to put in a line of text: no control characters, bounded. */
function printable(s: string): string {
  return s.replace(UNPRINTABLE, '').slice(0, 128);
}

// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/g;
