import net from 'node:net';
import type { ChatSink, ChatStream, ChatSurface, OpenResult } from './chat-session.js';
import type { TextOut } from './control-server.js';
import {
  controlSocketPath,
  frameSchema,
  LineSplitter,
  MAX_HOST_FRAME_BYTES,
  type ControlRequest,
  type HostFrame,
  type SayResult,
} from './protocol.js';

/** The host went away (stopped or crashed) while a client was talking to it. */
export class HostGoneError extends Error {}

/**
 * A client of the data dir owner's control socket. Frames from the host are bounded and
 * validated like any other input; `message` frames go to the open chat's sink, the rest are
 * answers, taken in order.
 */
export class ControlClient {
  private readonly frames: HostFrame[] = [];
  private waiter: (() => void) | undefined;
  private gone: Error | undefined;
  private closing = false;
  private sink: ChatSink | undefined;
  private stream: ChatStream | undefined;
  private readonly goneSignal: Promise<string>;
  private onGone: (why: string) => void = () => {};

  private constructor(private readonly socket: net.Socket) {
    this.goneSignal = new Promise((resolve) => (this.onGone = resolve));
    const splitter = new LineSplitter(
      MAX_HOST_FRAME_BYTES,
      (line) => {
        let frame: HostFrame;
        try {
          const parsed = frameSchema.safeParse(JSON.parse(line));
          if (!parsed.success)
            return this.fail(new HostGoneError('the host sent a malformed frame'));
          frame = parsed.data;
        } catch {
          return this.fail(new HostGoneError('the host sent a line that is not JSON'));
        }
        if (frame.type === 'message') this.sink?.(frame.chatId, frame.text);
        else if (frame.type === 'delta') this.stream?.(frame.chatId, frame.text);
        else {
          this.frames.push(frame);
          this.wake();
        }
      },
      (err) => this.fail(new HostGoneError(err.message)),
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', (err) =>
      this.fail(new HostGoneError(`the host connection failed: ${err.message}`)),
    );
    socket.on('close', () =>
      this.fail(new HostGoneError(this.closing ? 'closed' : 'the host closed the connection')),
    );
  }

  /** Connects to the owner's socket; undefined when nothing listens there. */
  static connect(home: string): Promise<ControlClient | undefined> {
    return new Promise((resolve) => {
      const socket = net.createConnection(controlSocketPath(home));
      const onError = () => resolve(undefined);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new ControlClient(socket));
      });
    });
  }

  /** Run a store command in the host, its output streamed to `out`/`err`; its exit status. */
  async run(command: string, args: string[], out: TextOut, err: TextOut): Promise<number> {
    this.request({ type: 'run', command, args });
    for (;;) {
      const frame = await this.next();
      if (frame.type === 'output') (frame.stream === 'stdout' ? out : err).write(frame.text);
      else if (frame.type === 'exit') return frame.code;
      else if (frame.type === 'error') {
        err.write(`nanocell: ${frame.message}\n`);
        return 1;
      }
    }
  }

  /** The host's terminal chats, through this connection (one chat per connection). */
  chatSurface(): ChatSurface {
    return {
      open: async (groupName, sink, stream): Promise<OpenResult> => {
        this.sink = sink;
        this.stream = stream;
        this.request({ type: 'chat', ...(groupName !== undefined ? { group: groupName } : {}) });
        const frame = await this.next();
        if (frame.type === 'error') return { ok: false, error: frame.message };
        if (frame.type !== 'attached')
          throw new HostGoneError(`unexpected ${frame.type} from the host`);
        let nextId = 0;
        return {
          ok: true,
          session: {
            groupName: frame.group,
            runtimeName: frame.runtime,
            assistantName: frame.assistant,
            ended: this.goneSignal,
            say: async (text): Promise<SayResult> => {
              const id = nextId++;
              this.request({ type: 'say', id, text });
              for (;;) {
                const answer = await this.next();
                if (answer.type === 'said' && answer.id === id) return answer.result;
                if (answer.type === 'error') return { kind: 'refused', reason: answer.message };
              }
            },
            close: () => this.close(),
          },
        };
      },
    };
  }

  close(): void {
    this.closing = true;
    this.socket.end();
  }

  private request(request: ControlRequest): void {
    if (this.gone) throw this.gone;
    this.socket.write(`${JSON.stringify(request)}\n`);
  }

  private async next(): Promise<HostFrame> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.gone) throw this.gone;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private fail(err: Error): void {
    this.gone ??= err;
    this.onGone(this.gone.message);
    this.socket.destroy();
    this.wake();
  }
}
