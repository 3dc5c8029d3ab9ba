import type { Group } from '../store/groups.js';
import { agentTurn } from './agent-turn.js';
import { capHistory, capText, DEFAULT_MAX_REPLY_CHARS } from './reply-cap.js';
import { inboundTurn } from './inbound-turn.js';
import type { GroupRunDeps, RunContext, RunOutcome } from './run.js';

/**
 * A messages run answers every inbound message after the group's cursor as one user turn;
 * its reply, history and cursor are stored in one transaction, so a failure anywhere leaves
 * the messages pending for the next run.
 */
export async function runMessages(deps: GroupRunDeps, group: Group): Promise<RunOutcome> {
  const { store, settings } = deps;
  const pending = store.messages.pendingFor(group.id, group.cursorMessageId);
  const last = pending.at(-1);
  if (!last || !pending.some((m) => m.triggered)) return { ok: true, reply: null };

  const startedAt = Date.now();
  const ctx: RunContext = { group, channel: last.channel, chatId: last.chatId };
  const userMessage = await inboundTurn(settings.home, group, pending, deps.media);
  let history = store.history.load(group.id);
  if (deps.compact) {
    await deps.compact(group, history);
    history = store.history.load(group.id);
  }
  const fresh = store.groups.byId(group.id) ?? group;
  const turn = await agentTurn(deps, { ...ctx, group: fresh }, [...history, userMessage]);
  const max = settings.maxReplyChars ?? DEFAULT_MAX_REPLY_CHARS;
  const reply = capText(turn.text || '(no reply)', max);
  const messageId = store.transaction(() => {
    store.history.append(group.id, capHistory([userMessage, ...turn.added], max));
    const id = store.messages.add({
      groupId: group.id,
      channel: last.channel,
      chatId: last.chatId,
      direction: 'out',
      sender: 'assistant',
      senderName: settings.assistantName,
      text: reply,
    }).id;
    store.groups.advanceCursor(group.id, last.id);
    return id;
  });
  void deps.outbox.flush();
  deps.log.info(
    {
      group: group.name,
      messages: pending.length,
      toolCalls: turn.toolCalls,
      durationMs: Date.now() - startedAt,
      ...turn.usage,
    },
    'run finished',
  );
  return { ok: true, reply, messageId, toolCalls: turn.toolCalls };
}
