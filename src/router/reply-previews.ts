import type { Logger } from 'pino';
import type { TurnEvent } from '../agent/agent-loop.js';
import type { Channel, SentMessage } from '../channels/channel.js';
import { ReplyStream, type ReplyStreamClock } from '../run/reply-stream.js';
import type { RunContext } from '../run/run.js';

/** Short enough for every platform that edits (Discord's 2000 is the least). */
export const PREVIEW_LIMIT_CHARS = 1900;

/** A reply as the chat shows it while the run works: the messages sent and edited so far. */
export interface ReplyPreview {
  /** Sends the last pending edit; resolves with the messages the preview is made of. */
  finish(): Promise<SentMessage[]>;
}

export interface ReplyPreviewsDeps {
  /** The running channel of that name (undefined when this process does not run it). */
  channelFor(name: string): Channel | undefined;
  /** Whether replies in that channel are streamed (the chat platforms; not the host's own surfaces). */
  streams(name: string): boolean;
  log: Logger;
  minIntervalMs?: number;
  clock?: ReplyStreamClock;
}

/**
 * Streamed replies on channels that can edit: a run's text and tool steps are shown as they
 * come, in messages sent and then edited in place. They are only a preview: the reply the run
 * stores is what counts, and the outbox delivers it by editing the preview into it (or, when
 * the preview failed, by sending it as usual), so a reply is never lost to streaming and a
 * crash mid-run at worst leaves a partial preview above the reply.
 */
export class ReplyPreviews {
  /** By group: one run per group at a time. */
  private readonly live = new Map<number, ReplyStream>();
  /** Stored replies waiting for the outbox, by message id. */
  private readonly adopted = new Map<number, ReplyStream>();

  constructor(private readonly deps: ReplyPreviewsDeps) {}

  /** A run's event (see GroupRunDeps.onEvent); never throws. */
  onEvent(ctx: RunContext, event: TurnEvent): void {
    let stream = this.live.get(ctx.group.id);
    if (!stream) {
      const channel = this.deps.streams(ctx.channel)
        ? this.deps.channelFor(ctx.channel)
        : undefined;
      if (!channel?.capabilities.edit) return;
      stream = new ReplyStream({
        channel,
        chatId: ctx.chatId,
        limit: PREVIEW_LIMIT_CHARS,
        ...(this.deps.minIntervalMs !== undefined
          ? { minIntervalMs: this.deps.minIntervalMs }
          : {}),
        ...(this.deps.clock ? { clock: this.deps.clock } : {}),
      });
      this.live.set(ctx.group.id, stream);
    }
    stream.push(event);
  }

  /** The group's run stored its reply as `messageId`: the preview becomes that message. */
  adopt(groupId: number, messageId: number): void {
    const stream = this.live.get(groupId);
    if (!stream) return;
    this.live.delete(groupId);
    this.adopted.set(messageId, stream);
  }

  /** The preview of a stored reply, once (for the outbox). */
  take(messageId: number): ReplyPreview | undefined {
    const stream = this.adopted.get(messageId);
    if (!stream) return undefined;
    this.adopted.delete(messageId);
    return { finish: async () => (await stream.finish()).messages };
  }

  /** The group's run ended: a preview no reply adopted is finished and forgotten. */
  end(groupId: number): void {
    const stream = this.live.get(groupId);
    if (!stream) return;
    this.live.delete(groupId);
    stream.finish().catch((err: unknown) => this.deps.log.debug({ err }, 'reply preview failed'));
  }
}
