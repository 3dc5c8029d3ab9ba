import type { Logger } from 'pino';
import WebSocket from 'ws';
import { z } from 'zod';

/** One Socket Mode envelope: an event, a click, ... The payload is still untrusted. */
export interface Envelope {
  envelopeId: string;
  type: string;
  payload: unknown;
  retryAttempt: number;
}

export interface SocketModeOptions {
  /** Opens a connection (`apps.connections.open` with the app token): the socket's URL. */
  openUrl(): Promise<string>;
  log: Logger;
  /**
   * Called for each envelope; the receiver calls `ack` when it has taken the envelope in
   * (Slack redelivers one that is never acknowledged). Must not reject.
   */
  onEnvelope(envelope: Envelope, ack: () => Promise<void>): Promise<void>;
  /** How long a connection may take to say hello. */
  helloTimeoutMs?: number;
  /** The first wait before reconnecting after a dropped connection; it doubles, up to a minute. */
  reconnectDelayMs?: number;
  /** A ping this often; a connection that does not answer one is dropped and reopened. */
  pingIntervalMs?: number;
}

/** Slack's frames are small; a bigger one is not Slack's. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;
const MAX_RECONNECT_DELAY_MS = 60_000;
const CLOSE_WAIT_MS = 1000;

const Frame = z.object({
  type: z.string().max(64),
  envelope_id: z.string().min(1).max(200).optional(),
  payload: z.unknown().optional(),
  retry_attempt: z.number().int().nonnegative().optional(),
  reason: z.string().max(200).optional(),
});

/**
 * A Socket Mode connection to Slack, reopened whenever it drops or Slack asks for it
 * (`disconnect`). Our own small client rather than @slack/socket-mode: that one (3.1) lets a
 * malformed envelope or a failed reconnect become an unhandled rejection, which ends the host.
 * Every frame here is parsed defensively; a bad one is logged and skipped.
 */
export class SocketModeConnection {
  private socket: WebSocket | null = null;
  /** A connection opened but not yet greeted: `close` must not leave it behind. */
  private connecting: WebSocket | null = null;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(private readonly options: SocketModeOptions) {}

  /** The first connection: rejects when Slack refuses or cannot be reached. */
  async open(): Promise<void> {
    this.stopping = false;
    await this.connect();
  }

  async close(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.connecting?.terminate();
    this.connecting = null;
    const socket = this.socket;
    this.socket = null;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, CLOSE_WAIT_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000);
    });
  }

  private async connect(): Promise<void> {
    const url = await this.options.openUrl();
    if (this.stopping) return;
    const socket = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES });
    this.connecting = socket;
    const helloTimeoutMs = this.options.helloTimeoutMs ?? 10_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.terminate();
          reject(new Error(`no hello on the Socket Mode connection within ${helloTimeoutMs} ms`));
        }, helloTimeoutMs);
        const done = (err?: Error) => {
          clearTimeout(timer);
          socket.off('error', done);
          socket.off('close', onClose);
          socket.off('message', onHello);
          if (err) return reject(err);
          // At once, not after an await: a frame right behind the hello may already be due.
          this.adopt(socket);
          resolve();
        };
        const onClose = (code: number) =>
          done(new Error(`socket closed before hello (code ${code})`));
        const onHello = (data: WebSocket.RawData, isBinary: boolean) => {
          if (!isBinary && this.parse(data.toString())?.type === 'hello') done();
        };
        socket.on('error', done);
        socket.on('close', onClose);
        socket.on('message', onHello);
      });
    } finally {
      if (this.connecting === socket) this.connecting = null;
    }
  }

  /** A connection that said hello becomes the one we listen on. */
  private adopt(socket: WebSocket): void {
    if (this.stopping) return void socket.terminate();
    this.socket = socket;
    this.failures = 0;
    socket.on('error', (err) => this.options.log.warn({ err }, 'slack socket error'));
    socket.on('close', (code) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearInterval(this.pingTimer);
      if (this.stopping) return;
      this.options.log.warn({ code }, 'slack socket closed; reconnecting');
      this.scheduleReconnect(0);
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary || this.socket !== socket) return;
      this.onFrame(socket, data.toString());
    });
    let answered = true;
    socket.on('pong', () => {
      answered = true;
    });
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      // ws throws on a ping over a closing socket; its close handler takes over from here.
      if (socket.readyState !== WebSocket.OPEN) return;
      if (!answered) {
        this.options.log.warn('slack socket did not answer a ping; reconnecting');
        socket.terminate();
        return;
      }
      answered = false;
      socket.ping();
    }, this.options.pingIntervalMs ?? 30_000);
  }

  private onFrame(socket: WebSocket, raw: string): void {
    const frame = this.parse(raw);
    if (!frame) return;
    if (frame.type === 'disconnect') {
      this.options.log.info({ reason: frame.reason }, 'slack asked to reconnect');
      // Closing makes the close handler reconnect at once.
      socket.close(1000);
      return;
    }
    if (frame.envelope_id === undefined) {
      this.options.log.debug({ type: frame.type }, 'slack frame without envelope ignored');
      return;
    }
    const envelopeId = frame.envelope_id;
    let acked = false;
    const ack = async () => {
      if (acked) return;
      acked = true;
      await this.ack(envelopeId);
    };
    void this.options
      .onEnvelope(
        {
          envelopeId,
          type: frame.type,
          payload: frame.payload,
          retryAttempt: frame.retry_attempt ?? 0,
        },
        ack,
      )
      .catch((err: unknown) => this.options.log.error({ err }, 'slack envelope not handled'));
  }

  private parse(raw: string): z.infer<typeof Frame> | null {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.options.log.warn({ bytes: raw.length }, 'slack sent a frame that is not JSON; skipped');
      return null;
    }
    const frame = Frame.safeParse(json);
    if (!frame.success) {
      this.options.log.warn(
        { issues: frame.error.issues.length },
        'slack sent a frame of an unknown shape; skipped',
      );
      return null;
    }
    return frame.data;
  }

  /** Sent on the connection open now; if none is, Slack redelivers the envelope later. */
  private async ack(envelopeId: string): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      this.options.log.warn({ envelopeId }, 'slack envelope not acknowledged: no open socket');
      return;
    }
    await new Promise<void>((resolve, reject) =>
      socket.send(JSON.stringify({ envelope_id: envelopeId }), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  private scheduleReconnect(delayMs: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.stopping) return;
      this.connect().catch((err: unknown) => {
        if (this.stopping) return;
        this.failures++;
        const base = this.options.reconnectDelayMs ?? 1000;
        const next = Math.min(base * 2 ** (this.failures - 1), MAX_RECONNECT_DELAY_MS);
        this.options.log.warn(
          { err, retryInMs: next, failures: this.failures },
          'slack socket could not reconnect',
        );
        this.scheduleReconnect(next);
      });
    }, delayMs);
  }
}
