import crypto from 'node:crypto';
import type { Logger } from 'pino';
import {
  complete,
  type ContentBlock,
  type ConversationMessage,
  type ModelProvider,
} from '../agent/model-provider.js';
import type { RunOutcome } from '../run/run.js';
import type { Group } from '../store/groups.js';
import type { HistoryEntry } from '../store/history.js';
import type { Store } from '../store/store.js';
import { writeArchive } from './group-folder.js';

export interface SessionOptions {
  home: string;
  assistantName: string;
  /** Past this estimate the older turns are summarised. */
  budgetTokens: number;
  /** Entries always kept verbatim at the end of the history. */
  keepRecent: number;
  maxTokens: number;
}

/**
 * Rough token estimate: about four characters per token of the history as JSON. Good enough
 * for a budget. With `sizes`, each frozen content (the history's, the same arrays turn after
 * turn) is measured once: a message is {"role":…,"content":…} around its content.
 */
export function estimateTokens(
  messages: readonly ConversationMessage[],
  sizes?: WeakMap<object, number>,
): number {
  let chars = 2 + Math.max(0, messages.length - 1);
  for (const m of messages) {
    let size = sizes?.get(m.content);
    if (size === undefined) {
      size = JSON.stringify(m.content).length;
      if (sizes && Object.isFrozen(m.content)) sizes.set(m.content, size);
    }
    chars += size + JSON.stringify(m.role).length + '{"role":,"content":}'.length;
  }
  return Math.ceil(chars / 4);
}

/**
 * Where older history can be cut: just before a user message that carries text (not tool
 * results), so a tool_use is never separated from its tool_result. Returns the index of the
 * first entry to keep, or -1 when no cut leaves `keepRecent` entries.
 */
export function cutIndex(entries: ConversationMessage[], keepRecent: number): number {
  for (let i = entries.length - keepRecent; i > 0; i--) {
    const e = entries[i];
    if (e && e.role === 'user' && e.content.some((b) => b.type === 'text')) return i;
  }
  return -1;
}

/** A group's conversation session: compaction when it grows, and `/clear`. */
export class Sessions {
  /**
   * Each message content's serialized length, kept while the history holds it: the history is
   * cached (frozen) between turns, so a turn measures only what is new, not the session again.
   */
  private readonly sizes = new WeakMap<object, number>();

  constructor(
    private readonly store: Store,
    private readonly provider: ModelProvider,
    private readonly log: Logger,
    private readonly options: SessionOptions,
  ) {}

  /**
   * When the history is over budget, summarise the older part with the model, keep the
   * summary on the group, archive the originals into the group folder, and drop them from
   * the history. A failed summary leaves everything as it was.
   */
  readonly compact = async (group: Group, history: ConversationMessage[]): Promise<void> => {
    if (estimateTokens(history, this.sizes) <= this.options.budgetTokens) return;
    const entries = this.store.history.entries(group.id);
    const cut = cutIndex(entries, this.options.keepRecent);
    if (cut <= 0) return;
    const older = entries.slice(0, cut);
    try {
      await this.summarise(group, older);
    } catch (err) {
      // The turn goes on with the full history; compaction is tried again next time.
      this.log.warn({ group: group.name, err }, 'session compaction failed; history kept');
    }
  };

  private async summarise(group: Group, older: HistoryEntry[]): Promise<void> {
    const response = await complete(this.provider, {
      system:
        "You summarise conversations for an assistant's memory. Keep facts, decisions, open tasks, names, dates and preferences; drop small talk. Write plain prose, at most 300 words.",
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'text',
              text: `${group.sessionSummary ? `Summary so far:\n${group.sessionSummary}\n\n` : ''}Conversation to add to the summary:\n${transcript(older)}`,
            },
          ],
        },
      ],
      tools: [],
      maxTokens: this.options.maxTokens,
    });
    // A summary is a model request of the group's too: counted like a run's (`nanocell usage`).
    try {
      this.store.usage.record({
        ...response.usage,
        runId: `compact-${crypto.randomBytes(6).toString('hex')}`,
        groupId: group.id,
        provider: this.provider.name,
        model: response.model ?? 'unknown',
        at: new Date(),
      });
    } catch (err) {
      this.log.error({ group: group.name, err }, 'usage: could not record a model request');
    }
    const summary = response.content
      .filter((b): b is Extract<ContentBlock, { type: 'text' }> => b.type === 'text')
      .map((b) => b.text)
      .join('\n')
      .trim();
    if (!summary) return;
    const file = this.archive(group, older, 'compacted');
    this.store.transaction(() => {
      this.store.groups.setSessionSummary(group.id, summary);
      this.store.history.deleteThrough(group.id, older.at(-1)!.id);
    });
    this.log.info({ group: group.name, archived: older.length, file }, 'session compacted');
  }

  /** `/clear`: archive the whole session, forget the summary, and say so in the chat. */
  clear(groupId: number, messageId: number): RunOutcome {
    const group = this.store.groups.byId(groupId);
    const message = this.store.messages.byId(messageId);
    if (!group || !message) {
      return { ok: false, kind: 'no_group', error: 'group not found', retryable: false };
    }
    const entries = this.store.history.entries(group.id);
    let reply = 'Started a fresh conversation. The previous one is archived in the group folder.';
    let cleared = true;
    if (entries.length > 0) {
      try {
        this.archive(group, entries, 'cleared');
      } catch (err) {
        // Nothing is forgotten that could not be archived first.
        this.log.error({ group: group.name, err }, 'archive failed during /clear');
        reply = `Could not start afresh: ${(err as Error).message}. The conversation is unchanged.`;
        cleared = false;
      }
    }
    const replyId = this.store.transaction(() => {
      if (cleared && entries.length > 0) {
        this.store.history.deleteThrough(group.id, entries.at(-1)!.id);
      }
      if (cleared) {
        this.store.groups.setSessionSummary(group.id, null);
        // A fresh session has read nothing untrusted (src/guard).
        this.store.provenance.clear(group.id);
      }
      this.store.groups.advanceCursor(group.id, message.id);
      this.store.turns.finish(group.id);
      return this.store.messages.add({
        groupId: group.id,
        channel: message.channel,
        chatId: message.chatId,
        direction: 'out',
        sender: 'assistant',
        senderName: this.options.assistantName,
        text: reply,
      }).id;
    });
    this.log.info({ group: group.name, archived: entries.length }, 'session cleared');
    return { ok: true, reply, messageId: replyId, toolCalls: 0 };
  }

  private archive(group: Group, entries: HistoryEntry[], why: string): string {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const lines = entries.map((e) => JSON.stringify(e)).join('\n');
    return writeArchive(
      this.options.home,
      group.folder,
      `${stamp}-${why}-${entries[0]!.id}.jsonl`,
      `${lines}\n`,
    );
  }
}

function transcript(entries: ConversationMessage[]): string {
  return entries
    .map((e) =>
      e.content
        .map((b) =>
          b.type === 'text'
            ? `${e.role}: ${b.text}`
            : b.type === 'tool_use'
              ? `${e.role} used ${b.name} ${JSON.stringify(b.input).slice(0, 300)}`
              : b.type === 'image'
                ? `${e.role}: (an image)`
                : `tool result: ${b.content.slice(0, 300)}`,
        )
        .join('\n'),
    )
    .join('\n');
}
