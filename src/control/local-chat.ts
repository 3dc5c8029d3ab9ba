import { ownerTerminalChat, type Assistant } from '../app.js';
import type { ChatSurface, ChatSession } from './chat-session.js';
import type { HostEventSink } from './host-events.js';
import type { SayResult } from './protocol.js';
import type { TerminalHub } from './terminal-hub.js';
import type { RunEventRelay } from './run-event-relay.js';

/**
 * Terminal chats in the process that owns the data dir: each message goes through the one
 * router (one queue, one agent per group); what the assistant sends to the chat is shown
 * through the terminal hub, which also brings the owner's notifications.
 */
export function localChatSurface(
  assistant: Assistant,
  hub: TerminalHub,
  events?: HostEventSink,
  runs?: RunEventRelay,
): ChatSurface {
  return {
    async open(groupName, sink, stream) {
      const found = groupName
        ? ownerTerminalChat(assistant, groupName)
        : { ok: true as const, group: assistant.adminGroup };
      if (!found.ok) return found;
      const { group } = found;
      const detach = hub.attach(group.name, sink);
      // Replies a crash left undelivered go out first.
      await assistant.outbox.flush();
      const session: ChatSession = {
        groupName: group.name,
        runtimeName: assistant.pool.runtimeName,
        assistantName: assistant.config.assistantName,
        // This process is the owner: nobody else can end the session.
        ended: new Promise<string>(() => {}),
        async say(text): Promise<SayResult> {
          // The reply's text as the model writes it (the whole reply follows through the hub).
          const unwatch =
            stream && runs
              ? runs.watch(group.id, (e) => {
                  if (e.type === 'text') stream(group.name, e.text);
                  else if (e.type === 'tool_start') stream(group.name, `\n⚙ ${e.name} …\n`);
                })
              : () => undefined;
          try {
            return await answer(text);
          } finally {
            unwatch();
          }
        },
        close: detach,
      };
      const answer = async (text: string): Promise<SayResult> => {
        const received = assistant.router.receive({
          channel: 'terminal',
          chatId: group.name,
          sender: 'owner',
          senderName: 'owner',
          text,
        });
        if (received.status === 'refused') return { kind: 'refused', reason: received.reason };
        // The terminal is the owner's: nothing ignores it, but say so if something does.
        if (received.status === 'ignored') return { kind: 'refused', reason: 'ignored' };
        if (!received.run) {
          return {
            kind: 'stored',
            note: `stored without a reply (group "${group.name}" answers only to its trigger)`,
          };
        }
        const outcome = await received.run;
        await assistant.outbox.flush();
        const source = `terminal:${group.name}`;
        if (!outcome.ok) {
          events?.({ type: 'run_failed', group: group.name, error: outcome.error, source });
          return { kind: 'failed', error: outcome.error };
        }
        if (outcome.reply !== null) {
          events?.({
            type: 'run_finished',
            group: group.name,
            toolCalls: outcome.toolCalls,
            source,
          });
        }
        return { kind: 'answered' };
      };
      return { ok: true, session };
    },
  };
}
