/**
 * A fetch() for a library the host runs on a run's behalf (the MCP SDK's Streamable HTTP
 * client), over the group's egress proxy: any method and body, and the answer as a stream (an
 * MCP server may answer a call with server-sent events). Each request carries an egress pass
 * (src/egress/egress-pass.ts) for exactly that request; rules, credentials, budget and audit
 * decide it at the proxy as they decide a cell's. The answer is bounded: past `maxBytes` the
 * stream fails.
 */
import http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import { canonicalHost } from '../policy/host-name.js';
import { EGRESS_PASS_HEADER, type EgressPassScope } from './egress-run.js';
import { decode, describeError, readCapped, refusalReason } from './proxy-fetch.js';

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface ProxyFetchLikeOptions {
  socketPath: string;
  /** How to ask the proxy for this request (src/tools/web-egress.ts viaFor). */
  via: (url: URL, method: string) => 'absolute' | 'connect';
  /** A pass for one request (EgressRunHandle.pass). */
  pass: (scope: EgressPassScope) => string;
  /** What the requests are for, in the audit log. */
  purpose: string;
  /** Headers added to a request the proxy reads (a credential placeholder it swaps). */
  extraHeaders?: (url: URL) => Record<string, string>;
  /** Bytes of one answer, at most. */
  maxBytes: number;
  /** Told when an answer passed maxBytes and was cut (its reader only sees the stream fail). */
  onCut?: (reason: string) => void;
  /** Until the answer's head arrives. */
  headTimeoutMs: number;
}

/** The proxy said no: the reason is its own line. */
export class EgressRefusedError extends Error {
  constructor(
    readonly url: URL,
    readonly reason: string,
  ) {
    super(`the egress proxy refused ${url.origin}${url.pathname}: ${reason}`);
  }
}

const MAX_REFUSAL_BYTES = 4096;
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export function proxyFetchLike(o: ProxyFetchLikeOptions): FetchLike {
  return (input, init = {}) => {
    const url = new URL(String(input));
    const method = (init.method ?? 'GET').toUpperCase();
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return Promise.reject(new TypeError(`${url.protocol} is not fetched; http(s) only`));
    }
    if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
      return Promise.reject(new TypeError('only a string body is sent through the egress proxy'));
    }
    const body = init.body ?? undefined;
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      if (name !== EGRESS_PASS_HEADER) headers[name] = value;
    });
    return send(o, url, method, headers, body, init.signal ?? undefined);
  };
}

function send(
  o: ProxyFetchLikeOptions,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const host = canonicalHost(url.hostname.replace(/^\[|\]$/g, ''));
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const cleanups: Array<() => void> = [];
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const c of cleanups) c();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`${url.host} did not answer within ${o.headTimeoutMs} ms`)),
      o.headTimeoutMs,
    );
    if (signal?.aborted) return fail(abortError(signal));
    const onAbort = (): void => fail(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal?.removeEventListener('abort', onAbort));

    const onResponse = (res: http.IncomingMessage): void => {
      if (settled) return void res.destroy();
      if (res.headers['x-nanocell-egress'] === 'refused') {
        void readCapped(res, MAX_REFUSAL_BYTES).then(
          ({ body: b }) => fail(new EgressRefusedError(url, refusalReason(b))),
          (err: unknown) => fail(err as Error),
        );
        return;
      }
      const status = res.statusCode ?? 0;
      const decoded = decode(res);
      if (status < 200 || status > 599 || !decoded) {
        res.destroy();
        return fail(
          new Error(
            decoded
              ? `${url.host} answered with status ${status}`
              : `${url.host} sent content-encoding ${String(res.headers['content-encoding'])}, which is not read`,
          ),
        );
      }
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (name === 'content-encoding' || name === 'content-length' || value === undefined)
          continue;
        for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
      }
      const stream = NULL_BODY.has(status) ? null : bounded(decoded, o, url, signal);
      if (!stream) res.destroy();
      resolve(
        new Response(stream, {
          status,
          statusText: res.statusMessage ?? '',
          headers: responseHeaders,
        }),
      );
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      fail(new Error(describeError(err, url.hostname)));
    const purpose = o.purpose;

    if (o.via(url, method) === 'absolute') {
      const pass = o.pass({ method, host, path: url.pathname, purpose });
      const hostName = url.hostname.includes(':') ? `[${host}]` : host;
      const r = http.request({
        socketPath: o.socketPath,
        method,
        path: `http://${hostName}:${port}${url.pathname}${url.search}`,
        headers: {
          ...headers,
          ...o.extraHeaders?.(url),
          host: url.host,
          [EGRESS_PASS_HEADER]: pass,
        },
      });
      cleanups.push(() => r.destroy());
      r.on('response', onResponse);
      r.on('error', onError);
      r.end(body);
      return;
    }
    const pass = o.pass({ method: 'CONNECT', host, purpose });
    const connect = http.request({
      socketPath: o.socketPath,
      method: 'CONNECT',
      path: `${url.hostname}:${port}`,
      headers: { host: `${url.hostname}:${port}`, [EGRESS_PASS_HEADER]: pass },
    });
    cleanups.push(() => connect.destroy());
    connect.on('error', onError);
    connect.on('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      cleanups.push(() => socket.destroy());
      if (res.statusCode !== 200) {
        void readCapped(socket, MAX_REFUSAL_BYTES).then(({ body: b }) =>
          fail(new EgressRefusedError(url, refusalReason(Buffer.concat([head, b])))),
        );
        return;
      }
      const secure =
        url.protocol === 'https:'
          ? tls.connect({
              socket,
              servername: url.hostname,
              rejectUnauthorized: true,
              ALPNProtocols: ['http/1.1'],
            })
          : socket;
      secure.on('error', onError);
      const r = http.request({
        createConnection: () => secure,
        method,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, host: url.host },
      });
      r.on('response', (answer) => {
        // The tunnel lives as long as its answer is read.
        answer.once('close', () => secure.destroy());
        onResponse(answer);
      });
      r.on('error', onError);
      r.end(body);
    });
    connect.end();
  });
}

/** The answer as a web stream that fails once it passes `maxBytes` or `signal` aborts. */
function bounded(
  source: NodeJS.ReadableStream & { destroy(): void },
  o: Pick<ProxyFetchLikeOptions, 'maxBytes' | 'onCut'>,
  url: URL,
  signal: AbortSignal | undefined,
): ReadableStream<Uint8Array> {
  let size = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const stop = (err: Error): void => {
        source.destroy();
        try {
          controller.error(err);
        } catch {
          // already closed
        }
      };
      const onAbort = (): void => stop(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      source.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > o.maxBytes) {
          const reason = `${url.host} sent more than ${o.maxBytes} bytes in one answer; it was cut`;
          o.onCut?.(reason);
          return stop(new Error(reason));
        }
        controller.enqueue(new Uint8Array(chunk));
      });
      source.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        try {
          controller.close();
        } catch {
          // already failed
        }
      });
      source.on('error', (err: Error) => stop(err));
    },
    cancel() {
      source.destroy();
    },
  });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}
