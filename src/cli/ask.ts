import type { Assistant } from '../app.js';
import { terminalChatFor } from '../app.js';

/** One message through the router; prints the reply. Returns the exit status. */
export async function ask(
  assistant: Assistant,
  text: string,
  groupName: string | undefined,
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const group = groupName ? terminalChatFor(assistant, groupName) : assistant.adminGroup;
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
  const outcome = await received.run;
  if (!outcome.ok) {
    out.stderr.write(
      `nanocell: ${outcome.error}\n(your message is saved and will be answered with the next one)\n`,
    );
    return 1;
  }
  if (outcome.reply !== null) out.stdout.write(`${outcome.reply}\n`);
  return 0;
}
