import type { TurnEvent } from '../agent/agent-loop.js';
import type { Channel, SentMessage } from '../channels/channel.js';

export interface ReplyStreamClock {
  now(): number;
  /** Runs `fn` after `ms`; the returned function cancels it. */
  later(fn: () => void, ms: number): () => void;
}

export const systemClock: ReplyStreamClock = {
  now: () => Date.now(),
  later: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface ReplyStreamOptions {
  channel: Pick<Channel, 'send' | 'edit'>;
  chatId: string;
  /** Most characters in one platform message; a longer reply continues in a new message. */
  limit: number;
  /** Least time between two edits of the chat. */
  minIntervalMs?: number;
  clock?: ReplyStreamClock;
}

type Part = { kind: 'text'; text: string } | { kind: 'tool'; id: string; line: string };

/**
 * Turns one run's events into sent and edited chat messages on a channel that can edit:
 * the first message goes out once there is something to show, later changes are edits at
 * most every `minIntervalMs`, and `finish` makes one last edit with the whole reply. The
 * reply is cut into messages of at most `limit` characters.
 */
export class ReplyStream {
  private readonly parts: Part[] = [];
  private readonly sent: { message: SentMessage; text: string }[] = [];
  private readonly clock: ReplyStreamClock;
  private readonly minIntervalMs: number;
  private lastUpdate = Number.NEGATIVE_INFINITY;
  private cancelTimer: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private finished = false;

  constructor(private readonly options: ReplyStreamOptions) {
    if (!(Number.isInteger(options.limit) && options.limit > 0)) {
      throw new RangeError(`reply stream limit must be a whole number > 0, got ${options.limit}`);
    }
    this.clock = options.clock ?? systemClock;
    this.minIntervalMs = options.minIntervalMs ?? 700;
  }

  push(event: TurnEvent): void {
    if (this.finished) return;
    if (event.type === 'text') {
      const last = this.parts.at(-1);
      if (last?.kind === 'text') last.text += event.text;
      else this.parts.push({ kind: 'text', text: event.text });
    } else if (event.type === 'tool_start') {
      this.parts.push({ kind: 'tool', id: event.id, line: `⚙ ${event.name} …` });
    } else {
      const part = this.parts.find((p) => p.kind === 'tool' && p.id === event.id);
      const line = `⚙ ${event.name} ${event.isError ? '✗' : '✓'}`;
      if (part?.kind === 'tool') part.line = line;
      else this.parts.push({ kind: 'tool', id: event.id, line });
    }
    this.schedule();
  }

  /** The whole reply as the chat shows it. */
  text(): string {
    let out = '';
    for (const part of this.parts) {
      if (part.kind === 'text') out += part.text;
      else out += `${out === '' || out.endsWith('\n') ? '' : '\n'}${part.line}\n`;
    }
    return out.trimEnd();
  }

  /** Sends the last edit and resolves with the reply as it ended; rejects if a send failed. */
  async finish(): Promise<{ text: string; messages: SentMessage[] }> {
    this.finished = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.enqueue();
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
    return { text: this.text(), messages: this.sent.map((s) => s.message) };
  }

  private schedule(): void {
    if (this.cancelTimer) return;
    const wait = this.lastUpdate + this.minIntervalMs - this.clock.now();
    if (wait <= 0) {
      this.enqueue();
      return;
    }
    this.cancelTimer = this.clock.later(() => {
      this.cancelTimer = undefined;
      this.enqueue();
    }, wait);
  }

  private enqueue(): void {
    this.lastUpdate = this.clock.now();
    this.chain = this.chain
      .then(() => this.update())
      .catch((error: unknown) => {
        this.failure ??= error;
      });
  }

  private async update(): Promise<void> {
    if (this.failure !== undefined) return;
    const chunks = splitForLimit(this.text(), this.options.limit);
    for (const [index, chunk] of chunks.entries()) {
      const known = this.sent[index];
      if (!known) {
        const message = await this.options.channel.send(this.options.chatId, { text: chunk });
        this.sent.push({ message, text: chunk });
      } else if (known.text !== chunk) {
        await this.options.channel.edit(this.options.chatId, known.message, chunk);
        known.text = chunk;
      }
    }
  }
}

/** Cuts text into pieces of at most `limit` characters, at a line break when one is near. */
export function splitForLimit(text: string, limit: number): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const newline = rest.lastIndexOf('\n', limit);
    const cut = newline > limit / 2 ? newline + 1 : limit;
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest !== '') chunks.push(rest);
  return chunks;
}
