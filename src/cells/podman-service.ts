import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { AttachStreamDemuxer } from './attach-stream.js';

/** The libpod API version every podman from 4.0 answers. */
const API = '/v4.0.0/libpod';
/** An API answer is small (an error, an inspect); anything longer is cut here. */
const MAX_ANSWER_BYTES = 256 * 1024;
/** An API call that takes longer than this has failed. */
const CALL_TIMEOUT_MS = 30_000;

export interface PodmanServiceOptions {
  /** The podman binary. */
  podman: string;
  /** The OCI runtime the service runs containers with (`--runtime`). */
  ociRuntime: string;
  /** How long the service has to answer its first ping. Default 10 s. */
  readyTimeoutMs?: number;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * podman's API service (`podman system service`), run by the host for its podman cells (issue
 * 17). Every podman command is a new process that loads podman's state before doing anything,
 * about half of a bare `podman run`; the service loads it once, so starting a container that
 * already exists is one API call. It listens on a unix socket in a private directory of the
 * host's, and lives no longer than the host: close() ends it, and so does the host's death
 * (kill -9 included: the kernel sends it SIGTERM then, through setpriv's --pdeathsig).
 *
 * Where the service cannot run, ready() resolves false and cells start with the podman CLI.
 */
export class PodmanService {
  private launched: Promise<boolean> | undefined;
  private child: ChildProcess | undefined;
  /** The directory the socket is in, and the host-only directory that one is in. */
  private dir: string | undefined;
  private outer: string | undefined;
  private closed = false;
  /** After a launch that never answered, none again before this time (ms since the epoch). */
  private retryAfter = 0;

  constructor(private readonly o: PodmanServiceOptions) {}

  /** The service's socket, once launched. */
  get socketPath(): string | undefined {
    return this.dir && path.join(this.dir, 'api.sock');
  }

  /** The service's process, while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** Start the service once, in the background; true once it answers, false if it cannot. */
  ready(): Promise<boolean> {
    if (!this.launched && Date.now() < this.retryAfter) return Promise.resolve(false);
    return (this.launched ??= this.launch());
  }

  private async launch(): Promise<boolean> {
    if (this.closed) return false;
    // Whoever reaches the socket commands podman: it is in a directory of an unguessable name
    // inside one nobody but the host can list (0711), as a cell's tool socket is.
    const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-podman-'));
    fs.chmodSync(outer, 0o711);
    const dir = path.join(outer, crypto.randomBytes(16).toString('hex'));
    fs.mkdirSync(dir, { mode: 0o700 });
    this.outer = outer;
    this.dir = dir;
    const socket = path.join(dir, 'api.sock');
    // setpriv (util-linux) has the kernel send the service SIGTERM when the host dies.
    const child = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'TERM',
        '--',
        this.o.podman,
        '--runtime',
        this.o.ociRuntime,
        'system',
        'service',
        '--time',
        '0',
        `unix://${socket}`,
      ],
      { stdio: 'ignore' },
    );
    child.on('error', () => undefined);
    this.child = child;
    let exited = false;
    let answered = false;
    child.once('exit', () => {
      exited = true;
      if (this.child !== child) return;
      // One that never answered is not tried again for a minute: cells use the CLI meanwhile.
      if (!answered) this.retryAfter = Date.now() + 60_000;
      // A service that died is launched again by the next ready(); cells meanwhile use the CLI.
      this.child = undefined;
      this.launched = undefined;
      fs.rmSync(outer, { recursive: true, force: true });
    });
    const deadline = Date.now() + (this.o.readyTimeoutMs ?? 10_000);
    while (!exited && !this.closed && Date.now() < deadline) {
      const ping = await this.request('GET', '/_ping', 1000).catch(() => undefined);
      if (ping?.status === 200) {
        answered = true;
        return true;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGTERM');
    return false;
  }

  /**
   * Attach to the created container `name` and start it: the attach stream is the cell's
   * stdout and stderr, and its end is the cell's exit. Rejects when the service refuses.
   */
  async attachAndStart(name: string): Promise<AttachedContainer> {
    const container = `/containers/${encodeURIComponent(name)}`;
    const attached = await new Promise<AttachedContainer>((resolve, reject) => {
      const socketPath = this.socketPath;
      if (!socketPath) return reject(new Error('the podman service is not running'));
      const req = http.request({
        socketPath,
        method: 'POST',
        path: `${API}${container}/attach?stream=true&stdout=true&stderr=true`,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
        timeout: CALL_TIMEOUT_MS,
      });
      req.on('upgrade', (_res, socket, head) =>
        resolve(
          new AttachedContainer(
            socket,
            head,
            () => void this.request('POST', `${container}/kill?signal=SIGKILL`).catch(() => null),
            async () => (await this.inspect(name))?.exitCode,
          ),
        ),
      );
      req.on('response', (res) => {
        void readBounded(res).then((body) =>
          reject(
            new Error(`podman refused to attach to ${name}: ${apiMessage(res.statusCode, body)}`),
          ),
        );
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end();
    });
    const started = await this.request('POST', `${container}/start`).catch((err: Error) => ({
      status: 0,
      body: err.message,
    }));
    // 304: the attach had started it already.
    if (started.status !== 204 && started.status !== 304) {
      attached.kill();
      throw new Error(
        `podman could not start ${name}: ${apiMessage(started.status, started.body)}`,
      );
    }
    void this.inspect(name).then((state) => {
      if (state?.pid) attached.pid = state.pid;
    });
    return attached;
  }

  /** What podman knows of the container: its host pid while it runs, its exit code after. */
  private async inspect(name: string): Promise<{ pid?: number; exitCode?: number } | undefined> {
    const res = await this.request(
      'GET',
      `/containers/${encodeURIComponent(name)}/json`,
      5000,
    ).catch(() => undefined);
    if (res?.status !== 200) return undefined;
    try {
      const state = (JSON.parse(res.body) as { State?: { Pid?: unknown; ExitCode?: unknown } })
        .State;
      const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
      const pid = int(state?.Pid);
      const exitCode = int(state?.ExitCode);
      return {
        ...(pid !== undefined && pid > 0 ? { pid } : {}),
        ...(exitCode !== undefined ? { exitCode } : {}),
      };
    } catch {
      return undefined;
    }
  }

  private request(method: string, apiPath: string, timeoutMs = CALL_TIMEOUT_MS): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const socketPath = this.socketPath;
      if (!socketPath) return reject(new Error('the podman service is not running'));
      const req = http.request({
        socketPath,
        method,
        path: `${API}${apiPath}`,
        timeout: timeoutMs,
      });
      req.on('response', (res) => {
        void readBounded(res).then((body) => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** End the service (containers it started run on, under their own conmon). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (this.outer) fs.rmSync(this.outer, { recursive: true, force: true });
  }
}

/**
 * A started container as the host holds a cell's process (stdio-cell.ts, CellProcess): its
 * stdout and stderr from the attach stream, its exit when the stream ends, kill through the
 * API. Nothing goes in on stdin: podman cells take their requests on their tool socket.
 */
export class AttachedContainer extends EventEmitter {
  /** The container's first process on the host, once the engine has said. */
  pid: number | undefined;
  readonly stdin = new Writable({ write: (_chunk, _enc, done) => done() });
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  private exited = false;

  constructor(
    private readonly socket: net.Socket,
    head: Buffer,
    private readonly killContainer: () => void,
    exitCode: () => Promise<number | undefined>,
  ) {
    super();
    const demuxer = new AttachStreamDemuxer((stream, chunk) => this[stream].write(chunk));
    const push = (chunk: Buffer) => {
      demuxer.push(chunk);
      // A stream that is not the engine's framing: nothing more is read from it.
      if (demuxer.error) this.kill();
    };
    if (head.length > 0) push(head);
    socket.on('data', push);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      void exitCode().then((code) => {
        this.exited = true;
        this.stdout.end();
        this.stderr.end();
        // 128 + n is how the engine reports a container ended by signal n.
        const signal =
          code !== undefined && code > 128
            ? (Object.entries(os.constants.signals).find(([, n]) => n === code - 128)?.[0] ?? null)
            : null;
        this.emit('exit', signal ? null : (code ?? null), signal);
      });
    });
  }

  kill(): boolean {
    if (this.exited) return false;
    this.killContainer();
    this.socket.destroy();
    return true;
  }
}

function readBounded(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < MAX_ANSWER_BYTES) chunks.push(c.subarray(0, MAX_ANSWER_BYTES - size));
      size += c.length;
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** The message of a libpod error answer, or its status and first bytes. */
function apiMessage(status: number | undefined, body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === 'string') return message.slice(0, 500);
  } catch {
    // Not JSON: said as it is, cut short.
  }
  return `HTTP ${status}: ${body.trim().slice(0, 200)}`;
}
