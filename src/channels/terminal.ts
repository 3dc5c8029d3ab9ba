import readline from 'node:readline';
import {
  ChannelUnsupportedError,
  type Channel,
  type ChannelCapabilities,
  type ChannelHandlers,
  type OutboundMessage,
  type SentMessage,
} from './channel.js';
import { escapeForTerminal } from './terminal-escape.js';

export interface TerminalOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where a refused message's reason goes (default: output). */
  notices?: NodeJS.WritableStream;
  assistantName: string;
  /** The terminal chat speaks into this group's chat. */
  chatId: string;
  /** Print replies bare, without the assistant's name (for `ask`). */
  plain?: boolean;
}

/**
 * The owner at the terminal. One line is one message; the next prompt appears once the
 * previous message has been handled. `/quit` or end of input stops it. Plain text only:
 * no edits, buttons, files or typing indicator (the host turns those into text).
 */
export class TerminalChannel implements Channel {
  readonly name = 'terminal';
  readonly capabilities: ChannelCapabilities = {
    edit: false,
    actions: false,
    attachments: false,
    typing: false,
  };
  private rl: readline.Interface | undefined;
  private closed: Promise<void> = Promise.resolve();
  private sentCount = 0;

  constructor(private readonly options: TerminalOptions) {}

  async start(handlers: ChannelHandlers): Promise<void> {
    const rl = readline.createInterface({
      input: this.options.input,
      output: this.options.output,
      terminal: false,
    });
    this.rl = rl;
    const prompt = () => this.options.output.write('you> ');
    const notices = this.options.notices ?? this.options.output;
    prompt();
    // Done when every line read has been handled (input may end long before that).
    this.closed = (async () => {
      for await (const line of rl) {
        const text = line.trim();
        if (text === '/quit' || text === '/exit') break;
        if (text !== '') {
          const receipt = await handlers.onMessage({
            channel: this.name,
            chatId: this.options.chatId,
            sender: 'owner',
            senderName: 'owner',
            text,
          });
          if (receipt.status === 'refused') {
            notices.write(`nanocell: ${escapeForTerminal(receipt.reason)}\n`);
          }
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

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    const from =
      chatId === this.options.chatId ? '' : `[${escapeForTerminal(chatId, { singleLine: true })}] `;
    const shown = escapeForTerminal(message.text);
    this.options.output.write(
      this.options.plain ? `${from}${shown}\n` : `${from}${this.options.assistantName}: ${shown}\n`,
    );
    this.sentCount += 1;
    return { id: String(this.sentCount) };
  }

  edit(): Promise<void> {
    return Promise.reject(new ChannelUnsupportedError(this.name, 'edit a sent message'));
  }

  typing(): Promise<void> {
    return Promise.reject(new ChannelUnsupportedError(this.name, 'show a typing indicator'));
  }

  async stop(): Promise<void> {
    this.rl?.close();
  }
}
