/**
 * Plain-HTTP requests (absolute-form `GET http://host/path`) from a cell: the one kind of
 * egress the proxy can read, so method/path rules and credential swaps apply here only.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { scrubText, type HeaderPairs } from './credentials.js';
import type { DecisionFields, EgressContext } from './egress-context.js';
import { decideHttp } from './egress-decide.js';
import { EGRESS_PASS_HEADER, noRunReason } from './egress-run.js';
import { allowedReason, checkPass, passToken } from './egress-pass.js';
import { canonicalHost, wellFormedHost } from '../policy/host-name.js';
import {
  endToEnd,
  flattenHeaders,
  headBytes,
  pairHeaders,
  sendRefusal,
  withoutHeaders,
} from './http-headers.js';
import { NeedleFilter, NeedleFoundError } from './needle-filter.js';

/** Bodies up to this size are read whole and checked before anything goes upstream. */
export const MAX_INSPECTED_BODY_BYTES = 1024 * 1024;

type ProxyUrl = { ok: true; url: URL; host: string } | { ok: false; reason: string };

function parseProxyUrl(raw: string): ProxyUrl {
  const shown = raw.length > 200 ? `${raw.slice(0, 200)}...` : raw;
  if (raw.startsWith('/')) {
    return {
      ok: false,
      reason: `request target ${shown} is not absolute: this is a proxy, send the full URL (set HTTP_PROXY=http://127.0.0.1:3128)`,
    };
  }
  if (!/^http:\/\//i.test(raw)) {
    return {
      ok: false,
      reason: `${shown} is not an http:// URL: https:// goes through CONNECT (set HTTPS_PROXY)`,
    };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `${shown} is not a valid URL` };
  }
  if (url.username || url.password) {
    return {
      ok: false,
      reason: 'user:password in the URL is not forwarded; send a header instead',
    };
  }
  const host = canonicalHost(url.hostname.replace(/^\[|\]$/g, ''));
  if (!wellFormedHost(host)) {
    return { ok: false, reason: `${shown} has no valid host name (an empty label or dot)` };
  }
  return { ok: true, url, host };
}

/** null: nothing to undo; undefined: an encoding the proxy cannot read. */
function decoderFor(
  encoding: string,
): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null | undefined {
  switch (encoding) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

function hostHeader(host: string, port: number, tls: boolean): string {
  const name = net.isIPv6(host) ? `[${host}]` : host;
  return port === (tls ? 443 : 80) ? name : `${name}:${port}`;
}

export async function forwardHttp(
  ctx: EgressContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const seen: DecisionFields = {
    allowed: false,
    stage: 'decided',
    kind: 'http',
    method,
    host: '',
    reason: '',
  };
  const run = ctx.currentRun();
  const refuse = (status: number, reason: string): void => {
    ctx.record({ ...seen, allowed: false, stage: 'decided', reason }, run);
    sendRefusal(res, status, reason);
  };

  if (!run) return refuse(403, noRunReason(ctx.grant.groupName));
  const spent = run.budget.refusal();
  if (spent) return refuse(429, spent);
  const parsed = parseProxyUrl(req.url ?? '');
  if (!parsed.ok) return refuse(400, parsed.reason);
  const { url, host } = parsed;
  const explicitPort = url.port ? Number(url.port) : null;
  Object.assign(seen, { host, port: explicitPort, path: url.pathname });

  // Credentials before rules: a placeholder sent to the wrong host is named as such in the
  // audit log, and never reaches DNS.
  const head = ctx.broker.inspectHead(
    host,
    url.pathname + url.search,
    withoutHeaders(endToEnd(pairHeaders(req.rawHeaders)), EGRESS_PASS_HEADER),
  );
  if (!head.ok) return refuse(403, head.reason);
  const match = decideHttp(ctx.grant.policy, ctx.grant.groupName, {
    host,
    port: explicitPort,
    method,
    path: url.pathname,
    untrusted: run.identity.untrusted?.() === true,
  });
  if (!match.ok) return refuse(403, match.reason);
  Object.assign(seen, { port: match.port, rule: match.label });
  if (head.injected.length > 0 && !match.tls) {
    return refuse(403, plainCredentialReason(head.injected[0]?.placeholder ?? '', host, match));
  }
  const pass = checkPass(run, passToken(req.rawHeaders), { method, host, path: url.pathname });
  if (!pass.ok) return refuse(403, pass.reason);
  const held = pass.scope
    ? undefined
    : run.identity.guard?.({
        kind: 'http',
        method,
        host,
        credentialed: head.injected.length > 0,
        grantHasCredentials: ctx.grant.credentials.length > 0,
      });
  if (held) return refuse(403, held);

  const forbidden = ctx.broker.forbiddenNeedles(host);
  const declared = req.headers['content-length'];
  let body: Buffer | null = null;
  if (
    forbidden.length > 0 &&
    declared !== undefined &&
    Number(declared) <= MAX_INSPECTED_BODY_BYTES
  ) {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch (err) {
      ctx.record(
        { ...seen, reason: `the cell broke off its request: ${(err as Error).message}` },
        run,
      );
      res.destroy();
      return;
    }
    body = Buffer.concat(chunks);
    const bad = ctx.broker.inspectBody(host, body);
    if (bad) return refuse(403, bad);
  }

  const target = await ctx.resolve(host);
  if (!target.ok) return refuse(target.status, target.reason);
  // Checked again and counted in one step: other requests may have started while resolving.
  const late = run.budget.tryStart();
  if (late) return refuse(429, late);
  const injected = head.injected.map((c) => c.placeholder);
  Object.assign(seen, { address: target.address, credentials: injected });
  if (pass.scope) seen.pass = pass.scope.purpose;
  ctx.record({ ...seen, allowed: true, reason: allowedReason(match.label, pass.scope) }, run);

  let headers: HeaderPairs = [['Host', hostHeader(host, match.port, match.tls)], ...head.headers];
  if (head.injected.length > 0) {
    // Ask for a body the proxy can scrub the secret from, should the upstream echo it.
    headers = [...withoutHeaders(headers, 'accept-encoding'), ['Accept-Encoding', 'identity']];
  }
  const options: https.RequestOptions = {
    host: target.address,
    port: match.port,
    method,
    path: head.target,
    headers: flattenHeaders(headers),
    setHost: false,
    agent: false,
    timeout: ctx.idleTimeoutMs,
  };
  if (match.tls) {
    // Verified against the system's CAs (and the name): a credential goes only this way.
    options.rejectUnauthorized = true;
    if (!net.isIP(host)) options.servername = host;
    if (ctx.upstreamCa) options.ca = ctx.upstreamCa;
  }
  const up = (match.tls ? https : http).request(options);
  up.on('socket', (socket) => ctx.track(socket));

  let bytesUp = 0;
  let bytesDown = 0;
  let ended = false;
  const finish = (allowed: boolean, reason: string): void => {
    if (ended) return;
    ended = true;
    ctx.record({ ...seen, allowed, stage: 'finished', reason, bytesUp, bytesDown }, run);
  };
  const cut = (status: number, reason: string): void => {
    if (ended) return;
    finish(false, reason);
    up.destroy();
    if (res.headersSent) {
      res.destroy();
    } else if (req.complete) {
      sendRefusal(res, status, reason);
    } else {
      // Answering while the cell still sends would close on unread data, and the cell would
      // see a reset instead of the reason: the rest is read first (counted, not forwarded).
      req.unpipe();
      req.on('end', () => sendRefusal(res, status, reason));
      req.resume();
    }
  };
  const count = (direction: 'up' | 'down', n: number): void => {
    if (direction === 'up') bytesUp += n;
    else bytesDown += n;
    if (run.budget.addBytes(n)) return;
    if (!ended) cut(429, run.budget.overBytesReason());
    else if (!res.headersSent) res.destroy();
  };

  const forget = run.onEnd(() => {
    if (!ended) finish(false, 'the run ended; its request was cut');
    up.destroy();
    res.destroy();
  });
  res.on('close', () => forget());

  up.on('timeout', () => up.destroy(new Error(`no data for ${ctx.idleTimeoutMs} ms`)));
  up.on('error', (err: NodeJS.ErrnoException) => {
    if (!ended) cut(502, `upstream ${host}:${match.port} failed: ${err.code ?? err.message}`);
  });
  req.on('error', (err) => {
    if (!ended) cut(400, `the cell's request failed: ${err.message}`);
  });
  res.on('error', (err) => {
    if (!ended) finish(false, `writing to the cell failed: ${err.message}`);
    up.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished && !ended) {
      finish(false, 'the cell closed the connection');
      up.destroy();
    }
  });

  count('up', headBytes(`${method} ${head.target} HTTP/1.1`, headers));
  if (ended) return;
  if (body) {
    count('up', body.length);
    if (!ended) up.end(body);
  } else {
    const filter = forbidden.length > 0 ? new NeedleFilter(forbidden) : new PassThrough();
    filter.on('error', (err) => {
      if (err instanceof NeedleFoundError) cut(403, err.reason);
      else cut(502, `request body failed: ${err.message}`);
    });
    req.on('data', (chunk: Buffer) => count('up', chunk.length));
    req.pipe(filter).pipe(up);
  }

  up.on('response', (upRes) => {
    const status = upRes.statusCode ?? 502;
    upRes.on('error', (err) => {
      if (!ended) cut(502, `upstream answer broke off: ${err.message}`);
    });
    let outHeaders = endToEnd(pairHeaders(upRes.rawHeaders));
    count('down', headBytes(`HTTP/1.1 ${status} ${upRes.statusMessage ?? ''}`, outHeaders));
    let out: Readable = upRes;
    if (head.injected.length > 0) {
      outHeaders = outHeaders.map(([k, v]) => [k, scrubText(v, head.injected)]);
      const encoding = String(upRes.headers['content-encoding'] ?? '')
        .trim()
        .toLowerCase();
      const decoder = decoderFor(encoding);
      if (decoder === undefined) {
        return cut(
          502,
          `upstream answered with content-encoding ${encoding}, which the proxy cannot check for the credential it sent`,
        );
      }
      if (method !== 'HEAD')
        outHeaders = withoutHeaders(outHeaders, 'content-length', 'content-encoding');
      const scrub = new NeedleFilter(ctx.broker.scrubNeedles(head.injected));
      const stages = decoder ? upRes.pipe(decoder) : upRes;
      decoder?.on('error', (err) => cut(502, `cannot decode the upstream answer: ${err.message}`));
      out = stages.pipe(scrub);
    }
    if (ended) return;
    res.writeHead(
      status,
      scrubText(upRes.statusMessage ?? '', head.injected),
      flattenHeaders(outHeaders),
    );
    out.on('data', (chunk: Buffer) => count('down', chunk.length));
    out.on('end', () => finish(true, `upstream answered ${status}`));
    out.pipe(res);
  });
}

function plainCredentialReason(
  placeholder: string,
  host: string,
  match: { label: string },
): string {
  return `credential ${placeholder} would be sent to ${host} in plain HTTP (allowed by ${match.label}): a credential is only ever sent over HTTPS with a verified certificate, which the proxy does for rules with a method or path (e.g. allow http domain="${host}" method=GET path="/**"); call http://${host}/... under such a rule`;
}
