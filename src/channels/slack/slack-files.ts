import { boundedDownload, mb } from '../bounded-download.js';
import type { InboundMedia, InboundMediaKind } from '../channel.js';
import type { SharedFile } from './slack-inbound.js';

/** Where Slack serves private files; the bot token is sent nowhere else. */
const SLACK_FILES_HOST = 'files.slack.com';
const MIME = /^[a-z]+\/[a-z0-9][a-z0-9.+-]{0,100}$/;

export type FileResult = { ok: true; media: InboundMedia } | { ok: false; reason: string };

export interface DownloadOptions {
  botToken: string;
  maxBytes: number;
  /** Hosts the token may be sent to: Slack's file host, and a test's fake. */
  hosts: readonly string[];
}

/** Slack's file host, and the API's own host when it is not Slack's (a test's fake). */
export function fileHosts(apiUrl: string): string[] {
  return [SLACK_FILES_HOST, new URL(apiUrl).host];
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
  const refuse = (why: string) => ({
    ok: false as const,
    reason: `I could not take in ${name}: ${why}. Send it again as a smaller file, or a link.`,
  });
  if (file.size !== undefined && file.size > options.maxBytes) {
    return refuse(`it is ${mb(file.size)}, over the ${mb(options.maxBytes)} limit`);
  }
  const url = file.url_private_download ?? file.url_private ?? '';
  const got = await boundedDownload(url, {
    maxBytes: options.maxBytes,
    allowedHosts: options.hosts,
    // A redirect is Slack's sign-in page (a missing files:read scope), never the file.
    headers: { authorization: `Bearer ${options.botToken}` },
  });
  if (!got.ok) return refuse(got.reason);
  const declared = (file.mimetype ?? '').toLowerCase();
  const mime = MIME.test(declared) ? declared : 'application/octet-stream';
  return { ok: true, media: { kind: kindOf(mime), name, mime, bytes: got.bytes } };
}

function kindOf(mime: string): InboundMediaKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/')) return 'voice';
  return 'document';
}
