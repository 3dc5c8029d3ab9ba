import type { HostEventSink } from '../control/host-events.js';
import type { RunOutcome } from '../run/run.js';
import type { Store } from '../store/store.js';
import { homeChat, type ChatRef } from './home-chat.js';
import type { OwnerNotifier } from './owner-notifier.js';
import { labelTaskOutput } from './task-output.js';

export interface OutcomeReportDeps {
  store: Store;
  outbox: {
    send(
      groupId: number,
      channel: string,
      chatId: string,
      text: string,
      senderName: string,
    ): number;
  };
  owner: OwnerNotifier;
  assistantName: string;
  events: HostEventSink;
}

/**
 * What the host does with a finished run: an event line for the owner; a message run that
 * finally failed (after its retries) is told to its chat in plain words; a task's result
 * reaches every owner surface when it is the owner's own task, and a task's failure reaches
 * its chat and the owner.
 */
export class OutcomeReport {
  constructor(private readonly deps: OutcomeReportDeps) {}

  messageRun(groupId: number, chat: ChatRef | undefined, outcome: RunOutcome): void {
    const { store, outbox, events, assistantName } = this.deps;
    const group = store.groups.byId(groupId)?.name ?? `#${groupId}`;
    const source = chat ? `${chat.channel}:${chat.chatId}` : 'resumed';
    if (outcome.ok) {
      if (outcome.reply !== null) {
        events({ type: 'run_finished', group, toolCalls: outcome.toolCalls, source });
      }
      return;
    }
    events({ type: 'run_failed', group, error: outcome.error, source });
    const target = chat ?? homeChat(store, groupId);
    if (!target) return;
    outbox.send(
      groupId,
      target.channel,
      target.chatId,
      `Sorry, I could not answer that: ${outcome.error}`,
      assistantName,
    );
  }

  taskRun(taskId: number, groupId: number, outcome: RunOutcome): void {
    const { store, outbox, owner, events, assistantName } = this.deps;
    const group = store.groups.byId(groupId);
    const name = group?.name ?? `#${groupId}`;
    const task = store.tasks.byId(taskId);
    const chat = store.taskChats.get(taskId) ?? homeChat(store, groupId);
    const label = (text: string) =>
      task ? labelTaskOutput(task, text) : `[task #${taskId}] ${text}`;
    if (outcome.ok) {
      events({ type: 'task_ran', group: name, taskId, ok: true });
      // The run stored its output in the task's chat; the owner's own tasks reach every surface.
      if (group?.isAdmin && outcome.reply !== null) owner.notify(label(outcome.reply), chat);
      return;
    }
    events({ type: 'task_ran', group: name, taskId, ok: false, error: outcome.error });
    const text = label(`failed: ${outcome.error}`);
    if (chat) outbox.send(groupId, chat.channel, chat.chatId, text, assistantName);
    // A paused group's owner was told already, once for the day (src/run/group-budget-gate.ts).
    if (outcome.kind === 'group_budget') return;
    owner.notify(group?.isAdmin ? text : `${name}: ${text}`, chat);
  }
}
