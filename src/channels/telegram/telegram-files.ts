import http from 'node:http';
import https from 'node:https';
import type { Api } from 'grammy';
import type { InboundMedia } from '../channel.js';
import { apiSignal } from './telegram-signal.js';
import { notTakenIn, type WantedFile } from './telegram-update.js';

/** A path as getFile gives it (`photos/file_1.jpg`): nothing that could leave the file root. */
const FILE_PATH = /^(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9_./-]{0,255}$/;

/** A download slower than this is given up (the update is tried again later). */
const DOWNLOAD_TIMEOUT_MS = 120_000;

export interface FileSource {
  api: Api;
  /** `{apiRoot}/file/bot{token}`: holds the token, so it is never logged. */
  fileRoot: string;
  agent: http.Agent;
  maxBytes: number;
  signal: AbortSignal;
}

export type Fetched = { ok: true; media: InboundMedia } | { ok: false; reason: string };

/**
 * A file of an inbound message: getFile, the size checked against the cap before anything is
 * downloaded, then a download that stops as soon as it passes the cap. `reason` is written for
 * the sender.
 */
export async function fetchFile(wanted: WantedFile, from: FileSource): Promise<Fetched> {
  const file = await from.api.getFile(wanted.fileId, apiSignal(from.signal));
  const size = file.file_size ?? wanted.size;
  if (size !== undefined && size > from.maxBytes) {
    return { ok: false, reason: notTakenIn(wanted.name, size, from.maxBytes) };
  }
  if (typeof file.file_path !== 'string' || !FILE_PATH.test(file.file_path)) {
    throw new Error('telegram getFile answered without a usable file_path');
  }
  const bytes = await download(`${from.fileRoot}/${file.file_path}`, from);
  if (bytes === null) {
    return { ok: false, reason: notTakenIn(wanted.name, undefined, from.maxBytes) };
  }
  return { ok: true, media: { kind: wanted.kind, name: wanted.name, mime: wanted.mime, bytes } };
}

/** The body, or null once it passes `maxBytes` (the download is cut there). */
function download(url: string, from: FileSource): Promise<Buffer | null> {
  const get = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.any([from.signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]);
    const req = get(url, { agent: from.agent, signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`telegram file download answered HTTP ${res.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > from.maxBytes) {
          res.destroy();
          return resolve(null);
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    // The error names the host only: the URL carries the token.
    req.on('error', (err) => reject(new Error(`telegram file download failed: ${err.message}`)));
  });
}
