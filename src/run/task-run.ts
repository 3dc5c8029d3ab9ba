import type { ConversationMessage } from '../agent/model-provider.js';
import type { Group } from '../store/groups.js';
import { homeChat } from '../owner/home-chat.js';
import { labelTaskOutput } from '../owner/task-output.js';
import { agentTurn } from './agent-turn.js';
import { capHistory, capText, DEFAULT_MAX_REPLY_CHARS } from './reply-cap.js';
import type { GroupRunDeps, RunContext, RunOutcome } from './run.js';

/**
 * A task run answers a scheduled task's prompt in the chat it was scheduled from (else the
 * group's home chat), labelled as the task's. With context mode
 * `group` the turn sees and extends the group's history; `isolated` starts from nothing.
 */
export async function runTask(
  deps: GroupRunDeps,
  group: Group,
  taskId: number,
): Promise<RunOutcome> {
  const { store, settings } = deps;
  const task = deps.tasks?.byId(taskId);
  if (!task || task.groupId !== group.id) {
    return {
      ok: false,
      kind: 'no_task',
      error: `task ${taskId} not found in ${group.name}`,
      retryable: false,
    };
  }
  const home = store.taskChats.get(task.id) ?? homeChat(store, group.id);
  if (!home) {
    return {
      ok: false,
      kind: 'no_chat',
      error: `group ${group.name} has no chat to answer in`,
      retryable: false,
    };
  }
  // The queue gave this run its slot: from here on it has started (see requeueUnstartedRuns).
  store.tasks.markRunInSlot(task.id, new Date());
  const ctx: RunContext = { group, channel: home.channel, chatId: home.chatId, taskId };
  const userMessage: ConversationMessage = {
    role: 'user',
    content: [{ type: 'text', text: `[scheduled task #${task.id}] ${task.prompt}` }],
  };
  const history = task.contextMode === 'group' ? store.history.load(group.id) : [];
  const turn = await agentTurn(deps, ctx, [...history, userMessage]);
  const max = settings.maxReplyChars ?? DEFAULT_MAX_REPLY_CHARS;
  const reply = capText(turn.text || '(no reply)', max);
  const messageId = store.transaction(() => {
    if (task.contextMode === 'group')
      store.history.append(group.id, capHistory([userMessage, ...turn.added], max));
    return store.messages.add({
      groupId: group.id,
      channel: home.channel,
      chatId: home.chatId,
      direction: 'out',
      sender: 'assistant',
      senderName: settings.assistantName,
      text: labelTaskOutput(task, reply),
    }).id;
  });
  deps.onReplyStored?.(ctx, messageId);
  void deps.outbox.flush();
  return { ok: true, reply, messageId, toolCalls: turn.toolCalls };
}
