import type { Assistant } from '../app.js';
import { terminalChatFor } from '../app.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import { TerminalChannel } from '../channels/terminal.js';

/** One message through the router; the reply leaves through the outbox to stdout. */
export async function ask(
  assistant: Assistant,
  text: string,
  groupName: string | undefined,
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const group = groupName ? terminalChatFor(assistant, groupName) : assistant.adminGroup;
  const channel = new TerminalChannel({
    input: process.stdin,
    output: out.stdout,
    assistantName: assistant.config.assistantName,
    chatId: group.name,
    plain: true,
  });
  assistant.outbox.register(channel);
  const received = assistant.router.receive({
    channel: 'terminal',
    chatId: group.name,
    sender: 'owner',
    senderName: 'owner',
    text,
  });
  if (!received.accepted) {
    out.stderr.write(`nanocell: ${received.reason}\n`);
    return 1;
  }
  if (!received.run) {
    out.stderr.write(
      `nanocell: stored without a reply (group "${group.name}" answers only to its trigger)\n`,
    );
    return 0;
  }
  const outcome = await received.run;
  await assistant.outbox.flush();
  if (!outcome.ok) {
    out.stderr.write(
      `nanocell: ${escapeForTerminal(outcome.error)}\n(your message is saved and will be answered with the next one)\n`,
    );
    return 1;
  }
  return 0;
}
