import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ChannelCheck } from '../registry.js';

const credsSchema = z
  .object({ me: z.object({ id: z.string().regex(/^\d{5,20}[:@]/) }).loose() })
  .loose();

/** The phone number this device is linked to (`+447700900123`), from the saved keys, or why not. */
export function linkedNumber(
  authDir: string,
): { ok: true; number: string } | { ok: false; reason: string } {
  const file = path.join(authDir, 'creds.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { ok: false, reason: `no keys at ${file}: run nanocell whatsapp link` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: `${file} is not JSON: run nanocell whatsapp link again` };
  }
  const creds = credsSchema.safeParse(parsed);
  if (!creds.success) {
    return { ok: false, reason: `${file} names no linked phone: run nanocell whatsapp link again` };
  }
  return { ok: true, number: `+${/^\d+/.exec(creds.data.me.id)![0]}` };
}

/**
 * For `doctor`, offline: the saved keys parse and name the phone. Whether WhatsApp still
 * accepts them shows only when the channel connects (a log-out is logged then).
 */
export function checkWhatsApp(authDir: string): ChannelCheck {
  const linked = linkedNumber(authDir);
  return linked.ok
    ? { ok: true, detail: `linked as ${linked.number} (keys not tried until start)` }
    : { ok: false, detail: linked.reason };
}
