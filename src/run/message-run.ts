import { ModelError } from '../agent/model-provider.js';
import type { Group } from '../store/groups.js';
import type { StoredMessage } from '../store/messages.js';
import { agentTurn } from './agent-turn.js';
import { untrustedSourceOf } from '../guard/message-source.js';
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
  // Someone else's words in the turn: the session is labelled untrusted (src/guard).
  for (const m of pending) {
    const source = untrustedSourceOf(m, (channel, sender) => store.owners.isOwner(channel, sender));
    if (source) store.provenance.taint(group.id, source);
  }
  // The turn is known by its first message: one that folded in more messages is the same turn.
  const turnKey = `m:${pending[0]!.id}`;
  const ctx: RunContext = { group, channel: last.channel, chatId: last.chatId, turnKey };
  const resume = store.turns.open(group.id, turnKey);
  if (resume) {
    deps.log.warn(
      { group: group.name, steps: resume.steps.length },
      'resuming a turn a restart interrupted, from its last recorded step',
    );
  }
  const userMessage = await inboundTurn(settings.home, group, pending, deps.media);
  let history = store.history.load(group.id);
  if (deps.compact) {
    await deps.compact(group, history);
    history = store.history.load(group.id);
  }
  const fresh = store.groups.byId(group.id) ?? group;
  let turn;
  try {
    turn = await agentTurn(deps, { ...ctx, group: fresh }, [...history, userMessage], resume);
  } catch (err) {
    if (err instanceof ModelError && err.kind === 'bad_request') {
      return setAside(deps, group, pending, err);
    }
    throw err;
  }
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
    store.turns.finish(group.id);
    return id;
  });
  deps.onReplyStored?.(ctx, messageId);
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

/**
 * The model API refused this turn itself (HTTP 400): retrying it would fail the same way and
 * hold every later message of the group behind it. The messages are set aside — the cursor
 * moves past them, they stay in the chat's record — and the chat is told why and what to do.
 */
function setAside(
  deps: GroupRunDeps,
  group: Group,
  pending: readonly StoredMessage[],
  err: ModelError,
): RunOutcome {
  const last = pending.at(-1)!;
  const note =
    `The model API refused ${pending.length === 1 ? 'this message' : `these ${pending.length} messages`} ` +
    `(${err.message}), so I set ${pending.length === 1 ? 'it' : 'them'} aside and will answer the next one. ` +
    'Rephrase it (a file the model cannot read is a common cause), or send /clear if the ' +
    'conversation so far is what it refuses.';
  deps.store.transaction(() => {
    deps.store.messages.add({
      groupId: group.id,
      channel: last.channel,
      chatId: last.chatId,
      direction: 'out',
      sender: 'assistant',
      senderName: deps.settings.assistantName,
      text: note,
    });
    deps.store.groups.advanceCursor(group.id, last.id);
    deps.store.turns.finish(group.id);
  });
  void deps.outbox.flush();
  deps.log.warn(
    { group: group.name, messages: pending.length, firstId: pending[0]!.id, lastId: last.id },
    'messages set aside: the model API refused them',
  );
  return { ok: false, kind: 'model_bad_request', error: note, retryable: false };
}
