import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageBlock } from '../agent/model-provider.js';
import { describeSize } from '../channels/attachment.js';
import { SafeDir } from '../fs/safe-dir.js';
import { MAX_IMAGE_BYTES, sniffImageType } from './image-check.js';
import type { SavedMedia } from './save-inbound-media.js';
import type { Transcriber } from './transcriber.js';

export interface MediaTurnDeps {
  /** Unset: voice notes are saved but not transcribed (the model is told so). */
  transcriber?: Transcriber;
  maxAttachmentBytes: number;
}

/** What a message's files add to the model's turn: a line per file and the images. */
export interface MediaTurn {
  lines: string[];
  images: ImageBlock[];
}

/**
 * Read a message's saved files back from the group folder at `groupDir` for the model: each
 * image again through the safe folder module and checked again (the cell may have changed
 * it), each document named, each voice note named with its transcript when one is configured.
 */
export async function mediaTurn(
  groupDir: string,
  media: readonly SavedMedia[],
  deps: MediaTurnDeps,
): Promise<MediaTurn> {
  const out: MediaTurn = { lines: [], images: [] };
  for (const m of media) {
    const label = `${m.kind} ${JSON.stringify(m.name || '(unnamed)')}`;
    if (!m.path) {
      out.lines.push(`[${label} was not kept: ${m.dropped ?? 'unknown reason'}]`);
      continue;
    }
    if (m.kind === 'image') {
      const image = readImage(groupDir, m.path);
      if (typeof image === 'string')
        out.lines.push(`[${label} (${m.path}) cannot be shown: ${image}]`);
      else {
        out.images.push(image);
        out.lines.push(`[${label} attached below, saved as ${m.path}]`);
      }
    } else if (m.kind === 'document') {
      out.lines.push(`[${label} saved as ${m.path} (${m.mime}, ${describeSize(m.size)})]`);
    } else {
      out.lines.push(`[${label} saved as ${m.path}; ${await transcript(groupDir, m.path, deps)}]`);
    }
  }
  return out;
}

function readImage(groupDir: string, rel: string): ImageBlock | string {
  const read = SafeDir.with(groupDir, (dir) => dir.readFile(rel, MAX_IMAGE_BYTES));
  if (!read.ok) return read.reason;
  if (read.truncated) return `it is now over ${MAX_IMAGE_BYTES} bytes`;
  const type = sniffImageType(read.bytes);
  if (!type) return 'it is no longer a png, jpeg, gif or webp image';
  return {
    type: 'image',
    source: { type: 'base64', media_type: type, data: read.bytes.toString('base64') },
  };
}

/**
 * The transcript line of a voice note. The command gets a private copy outside the group
 * folder, so a link the cell put in its place is never handed to a host command.
 */
async function transcript(groupDir: string, rel: string, deps: MediaTurnDeps): Promise<string> {
  if (!deps.transcriber) return 'not transcribed (no NANOCELL_TRANSCRIBE_COMMAND is set)';
  const read = SafeDir.with(groupDir, (dir) => dir.readFile(rel, deps.maxAttachmentBytes));
  if (!read.ok) return `cannot be transcribed: ${read.reason}`;
  if (read.truncated) return 'cannot be transcribed: it is now over the size limit';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-voice-'));
  try {
    const file = path.join(tmp, `voice${path.extname(rel).replace(/[^.a-z0-9]/gi, '')}`);
    fs.writeFileSync(file, read.bytes, { mode: 0o600 });
    const result = await deps.transcriber.transcribe(file);
    if (!result.ok) return `not transcribed: ${result.reason}`;
    return `transcript: ${result.text.slice(0, 20_000) || '(empty)'}`;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
