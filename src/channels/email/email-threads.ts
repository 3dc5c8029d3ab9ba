import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';

/** The last mail received from one correspondent: what a reply answers. */
export interface Thread {
  subject: string;
  /** The Message-ID the next reply's In-Reply-To names. */
  messageId: string;
  /** That mail's References plus its own id, oldest first. */
  references: string[];
}

const FILE_NAME = 'email-threads.json';
const DEFAULT_MAX_THREADS = 500;
const MAX_REFERENCES = 20;

const fileSchema = z.object({
  version: z.literal(1),
  threads: z.array(
    z.object({
      address: z.string().max(256),
      subject: z.string().max(1000),
      messageId: z.string().max(300),
      references: z.array(z.string().max(300)).max(MAX_REFERENCES),
    }),
  ),
});

/**
 * Correspondent address → the thread a reply belongs in, newest last, bounded, and kept in
 * the data dir (`email-threads.json`) so a reply after a restart still lands in its thread.
 * A missing or damaged file starts empty (logged): it only costs threading, never mail.
 */
export class EmailThreads {
  private readonly threads = new Map<string, Thread>();
  private readonly file: string;

  constructor(
    home: string,
    private readonly log: Logger,
    private readonly maxThreads = DEFAULT_MAX_THREADS,
  ) {
    this.file = path.join(home, FILE_NAME);
    this.load();
  }

  get(address: string): Thread | undefined {
    return this.threads.get(address);
  }

  /** Remember a received mail (the newest one from `address` wins) and save. */
  received(address: string, mail: { subject: string; messageId: string; references: string[] }) {
    this.threads.delete(address);
    const references = [...mail.references.filter((r) => r !== mail.messageId), mail.messageId];
    this.threads.set(address, {
      subject: mail.subject,
      messageId: mail.messageId,
      references: references.slice(-MAX_REFERENCES),
    });
    for (const oldest of this.threads.keys()) {
      if (this.threads.size <= this.maxThreads) break;
      this.threads.delete(oldest);
    }
    this.save();
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn(
          { err, file: this.file },
          'email threads not read; replies start new threads',
        );
      }
      return;
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (err) {
      this.log.warn(
        { err, file: this.file },
        'email threads file damaged; replies start new threads',
      );
      return;
    }
    for (const { address, ...thread } of parsed.threads.slice(-this.maxThreads)) {
      this.threads.set(address, thread);
    }
  }

  /** Write a temp file and rename it over the old one: a crash never leaves half a file. */
  private save(): void {
    const threads = [...this.threads].map(([address, t]) => ({ address, ...t }));
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(temp, JSON.stringify({ version: 1, threads }), { mode: 0o600 });
      fs.renameSync(temp, this.file);
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'email threads not saved; a restart loses threading');
    }
  }
}
