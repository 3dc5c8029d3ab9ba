import type http from 'node:http';
import type { InboundMedia, Receipt } from '../channel.js';
import { parseUploads } from './web-upload.js';

export const MAX_BODY_BYTES = 64 * 1024;

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** How much of an over-limit body is read and thrown away so the client gets its 413. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The request body as text, at most `maxBytes`. A bigger body is read on and discarded (up to
 * 64 MiB) rather than cut off, so the client gets its 413 instead of a reset connection.
 */
export async function readBody(
  req: http.IncomingMessage,
  maxBytes = MAX_BODY_BYTES,
): Promise<{ ok: true; text: string } | { ok: false; status: number; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const declared = Number(req.headers['content-length']);
  const tooBig = { ok: false as const, status: 413, error: `message body over ${maxBytes} bytes` };
  if (Number.isFinite(declared) && declared > DRAIN_LIMIT_BYTES) return tooBig;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > DRAIN_LIMIT_BYTES) return tooBig;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) return tooBig;
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}

function parseObject(raw: string, example: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return `body must be JSON like ${example}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `body must be a JSON object like ${example}`;
  }
  return value as Record<string, unknown>;
}

function parseSenderName(
  senderName: unknown,
  fallback: string,
): { ok: true; senderName: string } | { ok: false; error: string } {
  if (senderName !== undefined && (typeof senderName !== 'string' || senderName.length > 64)) {
    return { ok: false, error: '"senderName" must be a string of at most 64 characters' };
  }
  return { ok: true, senderName: (senderName as string | undefined)?.trim() || fallback };
}

/**
 * A malformed message gets an answer saying what is wrong; nothing is stored. A message with
 * `files` (see web-upload.ts) may have empty text.
 */
export function parseMessage(
  raw: string,
  defaultSender = 'owner',
):
  | { ok: true; text: string; senderName: string; media: InboundMedia[] }
  | { ok: false; error: string } {
  const value = parseObject(raw, '{"text": "hello", "senderName": "Ana"}');
  if (typeof value === 'string') return { ok: false, error: value };
  const { text, senderName, files } = value;
  const media = parseUploads(files);
  if (typeof media === 'string') return { ok: false, error: media };
  const emptyOk = media.length > 0 && (text === undefined || text === '');
  if (!emptyOk && (typeof text !== 'string' || text.trim() === '')) {
    return { ok: false, error: '"text" must be a non-empty string (or send "files")' };
  }
  const name = parseSenderName(senderName, defaultSender);
  if (!name.ok) return name;
  return {
    ok: true,
    text: typeof text === 'string' ? text : '',
    senderName: name.senderName,
    media,
  };
}

/** `{"actionId": "..."}`: a click on a button the page was shown. */
export function parseActionClick(
  raw: string,
  defaultSender = 'owner',
): { ok: true; actionId: string; senderName: string } | { ok: false; error: string } {
  const value = parseObject(raw, '{"actionId": "yes K3F9"}');
  if (typeof value === 'string') return { ok: false, error: value };
  const { actionId, senderName } = value;
  if (typeof actionId !== 'string' || actionId === '' || actionId.length > 200) {
    return { ok: false, error: '"actionId" must be the id of a button shown in this chat' };
  }
  const name = parseSenderName(senderName, defaultSender);
  if (!name.ok) return name;
  return { ok: true, actionId, senderName: name.senderName };
}

/** 202 stored (or taken and dropped), 403 refused with the reason written for the sender. */
export function answerReceipt(res: http.ServerResponse, receipt: Receipt): void {
  if (receipt.status === 'stored') return json(res, 202, { stored: true, id: receipt.id });
  // Taken and dropped (a chat the assistant does not answer): acknowledged, nothing to say.
  if (receipt.status === 'ignored') return json(res, 202, { stored: false });
  return json(res, 403, { stored: false, error: receipt.reason });
}
