import path from 'node:path';
import { z } from 'zod';

/**
 * The control socket's protocol: one JSON object per line. The host reads requests of at most
 * MAX_REQUEST_BYTES a line; a client reads host frames of at most MAX_HOST_FRAME_BYTES.
 */
export const MAX_REQUEST_BYTES = 256 * 1024;
export const MAX_HOST_FRAME_BYTES = 8 * 1024 * 1024;
const MAX_TEXT = 100_000;

export function controlDir(home: string): string {
  return path.join(home, 'control');
}

export function controlSocketPath(home: string): string {
  return path.join(controlDir(home), 'host.sock');
}

/** Client → host. */
export const requestSchema = z.discriminatedUnion('type', [
  /** Run a store command (`groups`, `tasks`, `status`, ...) in the host, with these arguments. */
  z.object({
    type: z.literal('run'),
    command: z.string().min(1).max(40),
    args: z.array(z.string().max(MAX_TEXT)).max(100),
  }),
  /** Attach this connection to a group's terminal chat (the admin group without one). */
  z.object({ type: z.literal('chat'), group: z.string().min(1).max(100).optional() }),
  /** One message typed in the attached chat. */
  z.object({
    type: z.literal('say'),
    id: z.number().int().nonnegative(),
    text: z.string().max(MAX_TEXT),
  }),
]);
export type ControlRequest = z.infer<typeof requestSchema>;

export const sayResultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('refused'), reason: z.string().max(MAX_TEXT) }),
  z.object({ kind: z.literal('stored'), note: z.string().max(MAX_TEXT) }),
  z.object({ kind: z.literal('answered') }),
  z.object({ kind: z.literal('failed'), error: z.string().max(MAX_TEXT) }),
]);
export type SayResult = z.infer<typeof sayResultSchema>;

/** Host → client. */
export const frameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('output'), stream: z.enum(['stdout', 'stderr']), text: z.string() }),
  z.object({ type: z.literal('exit'), code: z.number().int().min(0).max(255) }),
  z.object({
    type: z.literal('attached'),
    group: z.string().max(100),
    runtime: z.string().max(100),
    assistant: z.string().max(100),
  }),
  z.object({ type: z.literal('message'), chatId: z.string().max(200), text: z.string() }),
  /** A piece of a reply as it is written (the whole reply follows as a `message`). */
  z.object({
    type: z.literal('delta'),
    chatId: z.string().max(200),
    text: z.string().max(MAX_TEXT),
  }),
  z.object({
    type: z.literal('said'),
    id: z.number().int().nonnegative(),
    result: sayResultSchema,
  }),
  z.object({ type: z.literal('error'), message: z.string().max(MAX_TEXT) }),
]);
export type HostFrame = z.infer<typeof frameSchema>;

export class FrameTooLongError extends Error {
  constructor(readonly maxBytes: number) {
    super(`a control frame was longer than ${maxBytes} bytes`);
  }
}

/**
 * Splits a byte stream into lines, refusing (once, then nothing more) a line longer than
 * `maxBytes` before buffering it. Bytes are kept as buffers until a line is whole, so a
 * multi-byte character split across chunks is decoded correctly.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private failed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: (err: FrameTooLongError) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.failed) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.size + (end - start) > this.maxBytes) {
        this.failed = true;
        this.parts = [];
        this.onTooLong(new FrameTooLongError(this.maxBytes));
        return;
      }
      if (end > start) {
        this.parts.push(chunk.subarray(start, end));
        this.size += end - start;
      }
      if (nl === -1) return;
      const line = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.size = 0;
      start = nl + 1;
      if (line.trim() !== '') this.onLine(line);
    }
  }
}
