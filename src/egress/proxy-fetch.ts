/**
 * One GET from the host through a group's egress proxy (its unix socket), so a host tool's
 * request meets the same decide(), budget, audit and data-flow guard as the cell's. Either a
 * plain absolute-form request the proxy reads (and, for a brokered rule, sends on over HTTPS
 * itself), or a CONNECT tunnel with TLS from here, the certificate verified by this host.
 */
import http from 'node:http';
import type net from 'node:net';
import { Transform, type Readable } from 'node:stream';
import tls from 'node:tls';
import zlib from 'node:zlib';

export interface ProxyFetchRequest {
  socketPath: string;
  url: URL;
  /** `absolute`: GET http://host:port/path to the proxy; `connect`: a tunnel, then TLS here. */
  via: 'absolute' | 'connect';
  /** Body bytes kept (after content decoding); the rest is dropped and `truncated` set. */
  maxBytes: number;
  timeoutMs: number;
  /**
   * Extra request headers, over the defaults (e.g. `accept`, or a credential placeholder the
   * proxy swaps for its secret). Placeholders only: a secret never passes through here.
   */
  headers?: Record<string, string>;
}

export type ProxyFetchResult =
  | {
      ok: true;
      status: number;
      headers: http.IncomingHttpHeaders;
      body: Buffer;
      truncated: boolean;
    }
  | {
      ok: false;
      /** The proxy's refusal (X-Nanocell-Egress: refused) or the upstream's failure. */
      refused: boolean;
      status?: number;
      reason: string;
    };

const USER_AGENT = 'nanocell-web-fetch/0.1';
/** A refusal from the proxy is one short line; more is not read. */
const MAX_REFUSAL_BYTES = 4096;

/** Never rejects: a refusal, a timeout or a bad certificate is a result. */
export function proxyFetch(req: ProxyFetchRequest): Promise<ProxyFetchResult> {
  return new Promise((resolve) => {
    let done = false;
    const cleanups: Array<() => void> = [];
    const finish = (r: ProxyFetchResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const c of cleanups) c();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, refused: false, reason: `no answer within ${req.timeoutMs} ms` }),
      req.timeoutMs,
    );
    const port = Number(req.url.port) || (req.url.protocol === 'https:' ? 443 : 80);
    const target = `${req.url.pathname}${req.url.search}`;
    const headers = {
      host: req.url.host,
      'user-agent': USER_AGENT,
      accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5',
      'accept-encoding': 'gzip, deflate, br',
      connection: 'close',
      ...req.headers,
    };
    const onResponse = (res: http.IncomingMessage): void => {
      cleanups.push(() => res.destroy());
      if (res.headers['x-nanocell-egress'] === 'refused') {
        void readCapped(res, MAX_REFUSAL_BYTES).then(({ body }) =>
          finish({
            ok: false,
            refused: true,
            status: res.statusCode ?? 0,
            reason: refusalReason(body),
          }),
        );
        return;
      }
      const decoded = decode(res);
      if (!decoded) {
        finish({
          ok: false,
          refused: false,
          status: res.statusCode ?? 0,
          reason: `the server sent content-encoding ${String(res.headers['content-encoding'])}, which web_fetch cannot read`,
        });
        return;
      }
      void readCapped(decoded, req.maxBytes).then(
        ({ body, truncated }) =>
          finish({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body, truncated }),
        (err: unknown) =>
          finish({
            ok: false,
            refused: false,
            reason: `reading the answer failed: ${(err as Error).message}`,
          }),
      );
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      finish({ ok: false, refused: false, reason: describeError(err, req.url.hostname) });

    if (req.via === 'absolute') {
      const absolute = `http://${req.url.hostname.includes(':') ? `[${req.url.hostname}]` : req.url.hostname}:${port}${target}`;
      const r = http.request({
        socketPath: req.socketPath,
        method: 'GET',
        path: absolute,
        headers,
      });
      cleanups.push(() => r.destroy());
      r.on('response', onResponse);
      r.on('error', onError);
      r.end();
      return;
    }

    const connect = http.request({
      socketPath: req.socketPath,
      method: 'CONNECT',
      path: `${req.url.hostname}:${port}`,
      headers: { host: `${req.url.hostname}:${port}` },
    });
    cleanups.push(() => connect.destroy());
    connect.on('error', onError);
    connect.on('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      cleanups.push(() => socket.destroy());
      if (res.statusCode !== 200) {
        const raw = head.toString('utf8');
        void readCapped(socket, MAX_REFUSAL_BYTES).then(({ body }) =>
          finish({
            ok: false,
            refused: res.headers['x-nanocell-egress'] === 'refused',
            status: res.statusCode ?? 0,
            reason: refusalReason(Buffer.concat([Buffer.from(raw), body])),
          }),
        );
        return;
      }
      // Verified against this host's trust store (NODE_EXTRA_CA_CERTS included): the proxy
      // only relays bytes it cannot read.
      const secure = tls.connect({
        socket,
        servername: req.url.hostname,
        rejectUnauthorized: true,
        ALPNProtocols: ['http/1.1'],
      });
      cleanups.push(() => secure.destroy());
      secure.on('error', onError);
      const r = http.request({
        createConnection: () => secure,
        method: 'GET',
        path: target,
        headers,
      });
      r.on('response', onResponse);
      r.on('error', onError);
      r.end();
    });
    connect.end();
  });
}

/** The body with its content-encoding undone; undefined for an encoding not read here. */
export function decode(res: http.IncomingMessage): Readable | undefined {
  const encoding = String(res.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  const via = (t: Transform): Readable => {
    res.on('error', (e) => t.destroy(e));
    return res.pipe(t);
  };
  switch (encoding) {
    case '':
    case 'identity':
      return res;
    case 'gzip':
    case 'x-gzip':
      return via(zlib.createGunzip());
    case 'deflate':
      return via(zlib.createInflate());
    case 'br':
      return via(zlib.createBrotliDecompress());
    default:
      return undefined;
  }
}

/** At most `max` bytes of a stream; the stream is destroyed once they are in. */
export function readCapped(
  stream: Readable,
  max: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (truncated: boolean): void => {
      if (settled) return;
      settled = true;
      resolve({ body: Buffer.concat(chunks), truncated });
    };
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      const room = max - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (chunk.length >= room) {
        settle(chunk.length > room || !stream.readableEnded);
        stream.destroy();
      }
    });
    stream.on('end', () => settle(false));
    stream.on('close', () => settle(false));
    stream.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
  });
}

export function refusalReason(body: Buffer): string {
  const text = body.toString('utf8');
  const line = text.split(/\r?\n/).find((l) => l.startsWith('nanocell egress: '));
  return (line ?? text.split(/\r?\n\r?\n/).pop() ?? '')
    .replace(/^nanocell egress: /, '')
    .trim()
    .slice(0, 1000);
}

export function describeError(err: NodeJS.ErrnoException, host: string): string {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return "the group's egress proxy is not running (its cell was not granted network)";
  }
  if (
    err.code?.startsWith('ERR_TLS') ||
    /certificate|self.signed|unable to verify/i.test(err.message)
  ) {
    return `the certificate of ${host} could not be verified (${err.code ?? err.message})`;
  }
  return `${err.code ?? 'error'}: ${err.message}`;
}
