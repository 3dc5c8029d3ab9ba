import { PassThrough, Writable } from 'node:stream';
import { TerminalChannel } from '../../src/channels/terminal.js';
import { channelContract, type ChannelUser, type Told } from './channel.contract.js';

/** Every write to the terminal, one entry per write call, with waiters on what comes next. */
class Screen extends Writable {
  readonly writes: string[] = [];
  private waiters: Array<() => void> = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.writes.push(chunk.toString('utf8'));
    for (const w of this.waiters.splice(0)) w();
    done();
  }

  /** The first write at index >= from that matches, waiting for it. */
  async find(from: number, match: (w: string) => boolean): Promise<number> {
    for (;;) {
      const i = this.writes.findIndex((w, n) => n >= from && match(w));
      if (i >= 0) return i;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

channelContract('terminal', async () => {
  const input = new PassThrough();
  const screen = new Screen();
  const channel = new TerminalChannel({
    input,
    output: screen,
    assistantName: 'Andy',
    chatId: 'main',
  });
  let readFrom = 0;
  const connect = async (): Promise<ChannelUser> => {
    await screen.find(0, (w) => w === 'you> ');
    readFrom = screen.writes.length;
    return {
      say: async (text): Promise<Told> => {
        const before = screen.writes.length;
        input.write(`${text}\n`);
        const prompt = await screen.find(before, (w) => w === 'you> ');
        const notice = screen.writes.slice(before, prompt).find((w) => w.startsWith('nanocell: '));
        return notice ? { refused: notice } : { stored: true };
      },
      post: async (text) => {
        const before = screen.writes.length;
        input.write(`${text}\n`);
        await screen.find(before, (w) => w === 'you> ');
      },
      nextShown: async () => {
        const i = await screen.find(readFrom, (w) => w.startsWith('Andy: '));
        readFrom = i + 1;
        return {
          text: screen.writes[i]!.slice('Andy: '.length).replace(/\n$/, ''),
          actions: [],
          attachments: [],
        };
      },
      nextEdit: () => Promise.reject(new Error('the terminal cannot edit')),
      nextTyping: () => Promise.reject(new Error('the terminal has no typing indicator')),
      click: () => Promise.reject(new Error('the terminal has no buttons')),
      close: async () => undefined,
    };
  };
  return {
    channel,
    chatId: 'main',
    connect,
    isClosed: async () => {
      await channel.done();
      return true;
    },
  };
});
