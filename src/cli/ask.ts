import { parseArgs } from 'node:util';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import type { ChatSurface } from '../control/chat-session.js';
import type { ChatCommandIo, CliCommand } from './command.js';

const USAGE = `usage: nanocell ask [--group NAME] TEXT...
  Send one message (to the admin group, or to group NAME), print the reply and exit.
  Exit status: 0 answered, 1 the model or the cell runtime could not be used (the message is
  kept and answered with the next one), 2 bad usage or configuration.
`;

function parse(args: string[]): { group?: string; text: string } | string {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { group: { type: 'string', short: 'g' } },
      allowPositionals: true,
    });
    if (positionals.length === 0) {
      return 'ask needs the message text, e.g. nanocell ask "what time is it?"';
    }
    return { ...(values.group ? { group: values.group } : {}), text: positionals.join(' ') };
  } catch (err) {
    return (err as Error).message;
  }
}

/** One message through the owner's router; the reply is what the chat is sent. */
async function ask(args: string[], surface: ChatSurface, io: ChatCommandIo): Promise<number> {
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    io.stderr.write(`nanocell: ${parsed}\n${USAGE}`);
    return 2;
  }
  // Only this chat's messages: stdout is the reply (scripts read it), not the owner's other news.
  let group: string | undefined = parsed.group;
  const opened = await surface.open(parsed.group, (chatId, text) => {
    if (group === undefined || chatId === group) io.stdout.write(`${escapeForTerminal(text)}\n`);
  });
  if (!opened.ok) {
    io.stderr.write(`nanocell: ${escapeForTerminal(opened.error)}\n`);
    return 2;
  }
  group = opened.session.groupName;
  try {
    const result = await opened.session.say(parsed.text);
    switch (result.kind) {
      case 'refused':
        io.stderr.write(`nanocell: ${escapeForTerminal(result.reason)}\n`);
        return 1;
      case 'stored':
        io.stderr.write(`nanocell: ${result.note}\n`);
        return 0;
      case 'failed':
        io.stderr.write(
          `nanocell: ${escapeForTerminal(result.error)}\n(your message is saved and will be answered with the next one)\n`,
        );
        return 1;
      case 'answered':
        return 0;
    }
  } finally {
    opened.session.close();
  }
}

export const askCommand: CliCommand = {
  name: 'ask',
  summary: 'send one message, print the reply (ask [--group NAME] TEXT...)',
  usage: USAGE,
  needs: 'chat',
  check: (args) => {
    const parsed = parse(args);
    return typeof parsed === 'string' ? parsed : null;
  },
  run: ask,
};
