import readline from 'node:readline';
import type { Channel, InboundMessage } from './channel.js';
import { escapeForTerminal } from './terminal-escape.js';

export interface TerminalOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  assistantName: string;
  /** The terminal chat speaks into this group's chat. */
  chatId: string;
  /** Print replies bare, without the assistant's name (for `ask`). */
  plain?: boolean;
}

/**
 * The owner at the terminal. One line is one message; the next prompt appears once the
 * previous message has been handled. `/quit` or end of input stops it.
 */
export class TerminalChannel implements Channel {
  readonly name = 'terminal';
  private rl: readline.Interface | undefined;
  private closed: Promise<void> = Promise.resolve();

  constructor(private readonly options: TerminalOptions) {}

  async start(onMessage: (message: InboundMessage) => Promise<void>): Promise<void> {
    const rl = readline.createInterface({
      input: this.options.input,
      output: this.options.output,
      terminal: false,
    });
    this.rl = rl;
    const prompt = () => this.options.output.write('you> ');
    prompt();
    // Done when every line read has been handled (input may end long before that).
    this.closed = (async () => {
      for await (const line of rl) {
        const text = line.trim();
        if (text === '/quit' || text === '/exit') break;
        if (text !== '') {
          await onMessage({
            channel: this.name,
            chatId: this.options.chatId,
            sender: 'owner',
            senderName: 'owner',
            text,
          });
        }
        prompt();
      }
      rl.close();
    })().catch((err: unknown) => {
      this.options.output.write(`terminal error: ${(err as Error).message}\n`);
      rl.close();
    });
  }

  /** Resolves when the owner has quit or input has ended. */
  done(): Promise<void> {
    return this.closed;
  }

  async send(chatId: string, text: string): Promise<void> {
    const from =
      chatId === this.options.chatId ? '' : `[${escapeForTerminal(chatId, { singleLine: true })}] `;
    const shown = escapeForTerminal(text);
    this.options.output.write(
      this.options.plain ? `${from}${shown}\n` : `${from}${this.options.assistantName}: ${shown}\n`,
    );
  }

  async stop(): Promise<void> {
    this.rl?.close();
  }
}
