import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import type { ChatSurface } from '../control/chat-session.js';
import type { ChatCommandIo, CliCommand } from './command.js';

const USAGE = `usage: nanocell chat [--group NAME]
  Talk to the assistant at the terminal, in the admin group or group NAME. One line is one
  message; /quit or Ctrl-D leaves. While a host runs, this chat is one of its surfaces: the
  owner's approvals and task results show up here too, and "yes CODE" answers them.
`;

function parse(args: string[]): { group?: string } | string {
  try {
    const { values } = parseArgs({
      args,
      options: { group: { type: 'string', short: 'g' } },
      allowPositionals: false,
    });
    return values.group ? { group: values.group } : {};
  } catch (err) {
    return (err as Error).message;
  }
}

/** Interactive chat; what the assistant sends to this chat (or to the owner) is printed. */
async function chat(args: string[], surface: ChatSurface, io: ChatCommandIo): Promise<number> {
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    io.stderr.write(`nanocell: ${parsed}\n${USAGE}`);
    return 2;
  }
  let group = parsed.group ?? '';
  let name = 'assistant';
  // The reply as it is written: shown as it comes, then completed by the whole reply.
  // `answer` is what was streamed since the last tool step: the start of the final answer.
  let streamed = false;
  let answer: string | undefined;
  const opened = await surface.open(
    parsed.group,
    (chatId, text) => {
      if (chatId === group && streamed) {
        const shown = answer;
        streamed = false;
        answer = undefined;
        // The stream showed the start of this very reply: only the rest is missing.
        if (shown !== undefined && text.startsWith(shown)) {
          io.stdout.write(`${escapeForTerminal(text.slice(shown.length))}\n`);
          return;
        }
        if (shown !== undefined) io.stdout.write('\n');
      }
      // What the model or a chat member wrote cannot drive the terminal (escape sequences).
      const from = chatId === group ? '' : `[${escapeForTerminal(chatId, { singleLine: true })}] `;
      io.stdout.write(`${from}${name}: ${escapeForTerminal(text)}\n`);
    },
    (chatId, text) => {
      if (chatId !== group || text === '') return;
      if (text.startsWith('\n⚙ ') && text.endsWith('\n')) {
        // A tool step: on a answer of its own; the answer after it starts a new answer.
        io.stdout.write(escapeForTerminal(answer === undefined ? text.slice(1) : text));
        streamed = true;
        answer = undefined;
        return;
      }
      if (answer === undefined) {
        io.stdout.write(`${name}: `);
        answer = '';
      }
      streamed = true;
      answer += text;
      io.stdout.write(escapeForTerminal(text));
    },
  );

  if (!opened.ok) {
    io.stderr.write(`nanocell: ${escapeForTerminal(opened.error)}\n`);
    return 2;
  }
  const { session } = opened;
  group = session.groupName;
  name = session.assistantName;
  io.stdout.write(
    `nanocell: talking to ${name} in group "${group}" (cells: ${session.runtimeName}). /quit to leave.\n`,
  );
  const rl = readline.createInterface({ input: io.stdin, terminal: false });
  let endedBy: string | undefined;
  void session.ended.then((why) => {
    endedBy = why;
    rl.close();
  });
  try {
    io.stdout.write('you> ');
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/quit' || text === '/exit') break;
      if (text !== '') {
        const result = await session.say(text).catch((err: unknown) => {
          endedBy ??= (err as Error).message;
          return undefined;
        });
        if (streamed) {
          // A reply that streamed but never came whole (the run failed): end its line.
          if (answer !== undefined) io.stdout.write('\n');
          streamed = false;
          answer = undefined;
        }
        if (!result) break;
        if (result.kind === 'refused') {
          io.stderr.write(`nanocell: ${escapeForTerminal(result.reason)}\n`);
        } else if (result.kind === 'failed') {
          io.stderr.write(`nanocell: ${escapeForTerminal(result.error)}\n`);
        }
      }
      io.stdout.write('you> ');
    }
  } finally {
    rl.close();
    session.close();
  }
  if (endedBy !== undefined) {
    io.stderr.write(
      `nanocell: the chat ended: ${endedBy}. Start the host again (./nanocell start) and reopen the chat.\n`,
    );
    return 1;
  }
  return 0;
}

export const chatCommand: CliCommand = {
  name: 'chat',
  summary: 'talk to the assistant at the terminal (chat [--group NAME]; /quit to leave)',
  usage: USAGE,
  needs: 'chat',
  check: (args) => {
    const parsed = parse(args);
    return typeof parsed === 'string' ? parsed : null;
  },
  run: chat,
};
