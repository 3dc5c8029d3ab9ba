import { describeSize } from '../attachment.js';
import type { InboundMedia, InboundMediaKind } from '../channel.js';
import type { SharedFile } from './slack-inbound.js';

/** Where Slack serves private files; the bot token is sent nowhere else. */
const SLACK_FILES_ORIGIN = 'https://files.slack.com';
const MIME = /^[a-z]+\/[a-z0-9][a-z0-9.+-]{0,100}$/;

export type FileResult = { ok: true; media: InboundMedia } | { ok: false; reason: string };

export interface DownloadOptions {
  botToken: string;
  maxBytes: number;
  /** Origins the token may be sent to: Slack's file host, and a test's fake. */
  origins: readonly string[];
  signal?: AbortSignal;
}

export function fileOrigins(apiUrl: string): string[] {
  return [SLACK_FILES_ORIGIN, new URL(apiUrl).origin];
}

/**
 * A shared file's bytes (`url_private_download`, with the bot token), at most `maxBytes`:
 * a file Slack says is bigger is not fetched, and a download that grows past the cap is cut
 * off. A refusal is a reason for the sender.
 */
export async function downloadFile(
  file: SharedFile,
  options: DownloadOptions,
): Promise<FileResult> {
  const name = (file.name ?? 'file').replace(/[^\p{L}\p{N} ._-]/gu, '?').slice(0, 80);
  const limit = describeSize(options.maxBytes);
  const tooBig = (size: number) => ({
    ok: false as const,
    reason: `I could not take in ${name}: it is ${describeSize(size)}, and the limit is ${limit}. Send a smaller file.`,
  });
  if (file.size !== undefined && file.size > options.maxBytes) return tooBig(file.size);
  const url = parseUrl(file.url_private_download ?? file.url_private);
  if (!url || !options.origins.includes(url.origin)) {
    return {
      ok: false,
      reason: `I could not take in ${name}: Slack gave no file address I trust.`,
    };
  }
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${options.botToken}` },
    // A redirect is Slack's sign-in page (a missing files:read scope), never the file.
    redirect: 'manual',
    signal: options.signal,
  });
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    return {
      ok: false,
      reason: `I could not take in ${name}: Slack did not hand it over (HTTP ${response.status}). The app may need the files:read scope.`,
    };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Uint8Array).length;
    // Leaving the loop cancels the rest of the download.
    if (size > options.maxBytes) return tooBig(size);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  const declared = (file.mimetype ?? '').toLowerCase();
  const mime = MIME.test(declared) ? declared : 'application/octet-stream';
  return {
    ok: true,
    media: { kind: kindOf(mime), name, mime, bytes: Buffer.concat(chunks) },
  };
}

function kindOf(mime: string): InboundMediaKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/')) return 'voice';
  return 'document';
}

function parseUrl(text: string | undefined): URL | null {
  if (!text) return null;
  try {
    return new URL(text);
  } catch {
    return null;
  }
}
