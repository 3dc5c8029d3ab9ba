import type { Assistant } from '../app.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import { TerminalChannel } from '../channels/terminal.js';

/** Interactive chat with the admin group (or another group) at the terminal. */
export async function chat(
  assistant: Assistant,
  chatId: string,
  io: {
    stdin: NodeJS.ReadableStream;
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
  },
): Promise<number> {
  const { config } = assistant;
  const channel = new TerminalChannel({
    input: io.stdin,
    output: io.stdout,
    assistantName: config.assistantName,
    chatId,
  });
  assistant.outbox.register(channel);
  io.stdout.write(
    `nanocell: talking to ${config.assistantName} in group "${chatId}" (cells: ${assistant.pool.runtimeName}). /quit to leave.\n`,
  );
  // Replies a crash left undelivered go out first.
  await assistant.outbox.flush();
  await channel.start(async (message) => {
    const received = assistant.router.receive(message);
    if (!received.accepted) {
      io.stderr.write(`nanocell: ${received.reason}\n`);
      return;
    }
    if (!received.run) return;
    const outcome = await received.run;
    await assistant.outbox.flush();
    if (!outcome.ok) io.stderr.write(`nanocell: ${escapeForTerminal(outcome.error)}\n`);
  });
  await channel.done();
  return 0;
}
