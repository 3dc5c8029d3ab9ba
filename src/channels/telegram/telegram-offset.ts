import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** The file in the data dir that remembers the first update not yet taken in. */
export const OFFSET_FILE = 'telegram-offset';

const saved = z.object({ botId: z.number().int(), nextUpdateId: z.number().int().nonnegative() });

/**
 * Where polling resumes, so a restart neither replays nor loses a message. Update ids belong
 * to one bot: an offset saved for another bot (a new token) is not used.
 */
export class OffsetFile {
  private readonly file: string;

  constructor(home: string) {
    this.file = path.join(home, OFFSET_FILE);
  }

  /** The saved offset for this bot; undefined when there is none (or it is unreadable). */
  read(botId: number): { ok: true; next: number | undefined } | { ok: false; reason: string } {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, next: undefined };
      return { ok: false, reason: `cannot read ${this.file}: ${(err as Error).message}` };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = saved.safeParse(json);
    if (!parsed.success) return { ok: false, reason: `${this.file} is not a saved offset` };
    return { ok: true, next: parsed.data.botId === botId ? parsed.data.nextUpdateId : undefined };
  }

  /** Written to a temporary file and renamed over, so a crash leaves the old or the new one. */
  write(botId: number, nextUpdateId: number): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify({ botId, nextUpdateId }));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
  }
}
