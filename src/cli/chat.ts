import type { Assistant } from '../app.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import { TerminalChannel } from '../channels/terminal.js';
import type { ReceiveResult } from '../router/router.js';

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
    notices: io.stderr,
    assistantName: config.assistantName,
    chatId,
  });
  assistant.outbox.register(channel);
  io.stdout.write(
    `nanocell: talking to ${config.assistantName} in group "${chatId}" (cells: ${assistant.pool.runtimeName}). /quit to leave.\n`,
  );
  // Replies a crash left undelivered go out first.
  await assistant.outbox.flush();
  const answer = async (received: ReceiveResult): Promise<ReceiveResult> => {
    if (received.status === 'stored' && received.run) {
      const outcome = await received.run;
      await assistant.outbox.flush();
      if (!outcome.ok) io.stderr.write(`nanocell: ${escapeForTerminal(outcome.error)}\n`);
    }
    return received;
  };
  await channel.start({
    onMessage: (message) => answer(assistant.router.receive(message)),
    onAction: (action) => answer(assistant.router.receiveAction(action)),
  });
  await channel.done();
  return 0;
}
