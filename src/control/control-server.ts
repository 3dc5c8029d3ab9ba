import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import type { ChatSession, ChatSurface } from './chat-session.js';
import {
  controlDir,
  controlSocketPath,
  LineSplitter,
  MAX_REQUEST_BYTES,
  requestSchema,
  type ControlRequest,
  type HostFrame,
} from './protocol.js';

/** Below the protocol's cap on a delta frame's text (protocol.ts MAX_TEXT). */
const MAX_DELTA_CHARS = 50_000;

/** A text stream a command writes to; on the host, each write becomes an `output` frame. */
export interface TextOut {
  write(text: string): unknown;
}

export interface ControlHandlers {
  /** Run a store command (`groups`, `tasks`, ...) here; resolves with its exit status. */
  runCommand(command: string, args: string[], out: TextOut, err: TextOut): Promise<number>;
  chat: ChatSurface;
  /** Told when a request failed in the host (a bug or broken infrastructure, not bad input). */
  onError?: (message: string) => void;
}

/** The longest a unix socket path may be (sun_path, with its NUL). */
const MAX_SOCKET_PATH = 107;

export class ControlSocketError extends Error {}

/**
 * The data dir owner's control socket: `NANOCELL_HOME/control/host.sock`, in a folder only the
 * owner may enter (0700) and itself 0600, so only the owner's own processes can connect.
 * Requests are JSON lines of bounded size, validated before use; a connection that sends a
 * bad frame is told why and closed. Call only while holding the data dir lock: a socket file
 * found here is then a leftover of a crashed owner and is replaced.
 */
export class ControlServer {
  private readonly connections = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly socketPath: string,
  ) {}

  static async listen(
    home: string,
    handlers: ControlHandlers,
    log: Logger,
  ): Promise<ControlServer> {
    const dir = controlDir(home);
    const socketPath = controlSocketPath(home);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new ControlSocketError(
        `the control socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter NANOCELL_HOME`,
      );
    }
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.()) {
      throw new ControlSocketError(
        `${dir} is not a folder owned by this user; remove it and start again`,
      );
    }
    fs.chmodSync(dir, 0o700);
    fs.rmSync(socketPath, { force: true });
    const server = net.createServer();
    const self = new ControlServer(server, socketPath);
    server.on('connection', (socket) => self.serve(socket, handlers, log));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(socketPath, 0o600);
    return self;
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  private serve(socket: net.Socket, handlers: ControlHandlers, log: Logger): void {
    this.connections.add(socket);
    let session: ChatSession | undefined;
    // One request at a time per connection, in order.
    let chain: Promise<void> = Promise.resolve();
    const send = (frame: HostFrame) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(frame)}\n`);
    };
    const refuse = (message: string) => {
      send({ type: 'error', message });
      socket.end();
    };
    const splitter = new LineSplitter(
      MAX_REQUEST_BYTES,
      (line) => {
        let request: ControlRequest;
        try {
          const parsed = requestSchema.safeParse(JSON.parse(line));
          if (!parsed.success)
            return refuse(`bad request: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
          request = parsed.data;
        } catch {
          return refuse('bad request: not JSON');
        }
        chain = chain
          .then(() =>
            this.handle(
              request,
              handlers,
              send,
              () => session,
              (s) => (session = s),
            ),
          )
          .catch((err: unknown) => {
            log.error({ err }, 'control request failed');
            handlers.onError?.(`control request failed: ${(err as Error).message}`);
            refuse(`the host could not do that: ${(err as Error).message}`);
          });
      },
      (err) => refuse(err.message),
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', (err) => log.debug({ err }, 'control connection error'));
    socket.on('close', () => {
      session?.close();
      this.connections.delete(socket);
    });
  }

  private async handle(
    request: ControlRequest,
    handlers: ControlHandlers,
    send: (frame: HostFrame) => void,
    current: () => ChatSession | undefined,
    attach: (s: ChatSession) => void,
  ): Promise<void> {
    switch (request.type) {
      case 'run': {
        const stream = (name: 'stdout' | 'stderr'): TextOut => ({
          write: (text: string) => send({ type: 'output', stream: name, text }),
        });
        const code = await handlers.runCommand(
          request.command,
          request.args,
          stream('stdout'),
          stream('stderr'),
        );
        send({ type: 'exit', code });
        return;
      }
      case 'chat': {
        if (current())
          return send({ type: 'error', message: 'this connection already has a chat' });
        const opened = await handlers.chat.open(
          request.group,
          (chatId, text) => send({ type: 'message', chatId, text }),
          // A piece of a reply can be long (one provider chunk): sent in frames the client takes.
          (chatId, text) => {
            for (let i = 0; i < text.length;) {
              let end = Math.min(text.length, i + MAX_DELTA_CHARS);
              // Never between the halves of a surrogate pair.
              if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
              send({ type: 'delta', chatId, text: text.slice(i, end) });
              i = end;
            }
          },
        );
        if (!opened.ok) return send({ type: 'error', message: opened.error });
        attach(opened.session);
        send({
          type: 'attached',
          group: opened.session.groupName,
          runtime: opened.session.runtimeName,
          assistant: opened.session.assistantName,
        });
        return;
      }
      case 'say': {
        const session = current();
        if (!session) return send({ type: 'error', message: 'open a chat before saying anything' });
        const result = await session.say(request.text);
        send({ type: 'said', id: request.id, result });
        return;
      }
    }
  }
}
