/**
 * Test kit for the egress proxy: upstream servers on 127.0.0.1, a raw HTTP client speaking
 * over the proxy's unix socket, and a proxy started on a temp socket. Tests only; it lives
 * beside the proxy because the proxy's tests and the forwarder's share it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parsePolicy } from '../policy/policy-file.js';
import type { PolicyLayers } from '../policy/rules.js';
import type { EgressDecision, EgressGrant } from './egress-grant.js';
import { EgressProxy, type EgressProxyOptions } from './egress-proxy.js';
import type { EgressRunHandle } from './egress-run.js';
import type { Resolver } from './resolve-target.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Answers `/echo` with the request's headers as JSON (and its authorization header echoed
 * in a response header), `/big?n=N` with N bytes, anything else with a fixed text.
 */
function handle(seen: SeenRequest[]): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      seen.push({
        method: req.method ?? '',
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (url.startsWith('/echo')) {
        res.setHeader('x-echo-auth', String(req.headers.authorization ?? ''));
        res.end(JSON.stringify({ url, headers: req.headers }));
      } else if (url.startsWith('/big')) {
        const n = Number(new URL(url, 'http://x').searchParams.get('n') ?? '0');
        res.end(Buffer.alloc(n, 'x'));
      } else {
        res.end('hello from upstream');
      }
    });
  };
}

async function listenLocal(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function closer(server: net.Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      if (server instanceof http.Server) server.closeAllConnections();
    });
}

export async function startHttpUpstream(): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const server = http.createServer(handle(seen));
  return { port: await listenLocal(server), seen, close: closer(server) };
}

export interface TlsMaterial {
  key: string;
  cert: string;
}

export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

/** A self-signed certificate for `name`, or null when openssl is not installed. */
export function makeCertificate(dir: string, name: string): TlsMaterial | null {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return null;
  return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') };
}

export async function startHttpsUpstream(tls: TlsMaterial): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const server = https.createServer({ key: tls.key, cert: tls.cert }, handle(seen));
  return { port: await listenLocal(server), seen, close: closer(server) };
}

/** A TCP server that sends back whatever it receives: the far end of a CONNECT tunnel. */
export async function startEchoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  const port = await listenLocal(server);
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

export function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  let body = split === -1 ? '' : raw.slice(split + 4);
  if (/^transfer-encoding: chunked/im.test(head)) body = unchunk(body);
  return { status, head, body };
}

function unchunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (eol === -1 || !size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** Writes `request` to a stream socket (unix path or TCP port) and reads until it closes. */
export function sendRaw(
  where: { path: string } | { port: number; host: string },
  request: string | Buffer | Array<string | Buffer>,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(where);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    // The proxy may refuse and close before the whole request is written: that is an answer.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks).toString('latin1'))));
    const parts = Array.isArray(request) ? request : [request];
    // Pieces written one after another, so a body can reach the proxy in several chunks.
    const writeNext = (i: number): void => {
      const part = parts[i];
      if (part === undefined) return;
      socket.write(part, () => setImmediate(() => writeNext(i + 1)));
    };
    writeNext(0);
  });
}

/** A plain-HTTP proxy request, absolute-form, closing the connection after the answer. */
export function httpRequest(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body = '',
): string {
  const lines = [`${method} ${url} HTTP/1.1`, `Host: ${new URL(url).host}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export interface ProxyUnderTest {
  proxy: EgressProxy;
  socketPath: string;
  decisions: EgressDecision[];
  /** The run begun at start (run-1 of task 7), so requests have a run to count against. */
  run: EgressRunHandle;
}

/**
 * Policy layers from policy-file text, as the owner would write them: `group` is
 * groups/test.policy, `task` (optional) tasks/7.policy. Throws on a line with an error.
 */
export function egressPolicy(group: string, task?: string): PolicyLayers {
  const parse = (text: string, source: string) => {
    const parsed = parsePolicy(text, source);
    if (parsed.errors.length > 0)
      throw new Error(`bad test policy: ${JSON.stringify(parsed.errors)}`);
    return parsed.rules;
  };
  return {
    defaults: [],
    group: parse(group, 'groups/test.policy'),
    ...(task !== undefined ? { task: parse(task, 'tasks/7.policy') } : {}),
  };
}

/** Resolves only the names given; anything else fails like a missing name. */
export function fakeResolver(names: Record<string, string[]>): Resolver {
  return async (host) => {
    const found = names[host];
    if (!found)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
}

export async function startProxy(
  dir: string,
  grant: Partial<EgressGrant>,
  options: Partial<EgressProxyOptions> = {},
): Promise<ProxyUnderTest> {
  const decisions: EgressDecision[] = [];
  const proxy = new EgressProxy({
    grant: {
      groupName: 'main',
      policy: { defaults: [], group: [] },
      credentials: [],
      budget: { maxRequests: 100, maxBytes: 10_000_000 },
      ...grant,
    },
    onDecision: (d) => decisions.push(d),
    ...options,
  });
  const socketPath = path.join(
    dir,
    `egress-${decisions.length}-${Math.random().toString(16).slice(2)}.sock`,
  );
  await proxy.listen(socketPath);
  const run = proxy.beginRun({ runId: 'run-1', taskId: '7' });
  return { proxy, socketPath, decisions, run };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
