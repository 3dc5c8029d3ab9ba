import http from 'node:http';
import type { HeaderPairs } from './credentials.js';

/** Headers about one hop, never passed on (RFC 9110 7.6.1), plus the proxy's own. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
]);

export function pairHeaders(raw: readonly string[]): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return pairs;
}

export function flattenHeaders(pairs: HeaderPairs): string[] {
  return pairs.flat();
}

/** Drops hop-by-hop headers, those the Connection header names among them. */
export function endToEnd(pairs: HeaderPairs): HeaderPairs {
  const named = new Set(HOP_BY_HOP);
  for (const [name, value] of pairs) {
    if (name.toLowerCase() === 'connection') {
      for (const token of value.split(',')) named.add(token.trim().toLowerCase());
    }
  }
  return pairs.filter(([name]) => !named.has(name.toLowerCase()));
}

export function withoutHeaders(pairs: HeaderPairs, ...names: string[]): HeaderPairs {
  return pairs.filter(([name]) => !names.includes(name.toLowerCase()));
}

/** What the cell reads on a refusal: one line, prefixed so it is clearly the proxy's. */
export function refusalText(reason: string): string {
  return `nanocell egress: ${reason.replace(/[\r\n]+/g, ' ')}\n`;
}

/** A refusal written straight to a socket, for CONNECT and upgrades (no ServerResponse). */
export function rawRefusal(status: number, reason: string): string {
  const body = refusalText(reason);
  return [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Refused'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    'X-Nanocell-Egress: refused',
    '',
    body,
  ].join('\r\n');
}

export function sendRefusal(res: http.ServerResponse, status: number, reason: string): void {
  const body = refusalText(reason);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-nanocell-egress': 'refused',
  });
  res.end(body);
}

/** Approximate wire size of a head, for the byte budget. */
export function headBytes(firstLine: string, pairs: HeaderPairs): number {
  return pairs.reduce((n, [k, v]) => n + k.length + v.length + 4, firstLine.length + 4);
}
