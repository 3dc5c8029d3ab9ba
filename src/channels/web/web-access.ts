import crypto from 'node:crypto';
import type http from 'node:http';

/** Who a request speaks for: the owner (every chat) or a member link (one chat). */
export type WebCredential = { kind: 'owner' } | { kind: 'member'; linkId: string; chatId: string };

export function mayUseChat(credential: WebCredential, chatId: string): boolean {
  return credential.kind === 'owner' || credential.chatId === chatId;
}

/** `Host` values a browser sends for this server: loopback on our port and the public names. */
export function allowedHosts(port: number, publicHosts: readonly string[]): Set<string> {
  return new Set(
    [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ...publicHosts].map((h) =>
      h.toLowerCase(),
    ),
  );
}

/**
 * DNS rebinding: a page on an attacker's name that resolves to 127.0.0.1 reaches us with its
 * own name in `Host`. Only our names are served.
 */
export function checkHost(req: http.IncomingMessage, allowed: Set<string>): string | null {
  const host = (req.headers.host ?? '').toLowerCase();
  if (allowed.has(host)) return null;
  return `Host "${host.slice(0, 100)}" is not this server; open the link nanocell printed (or set NANOCELL_WEB_PUBLIC_URL for a public name)`;
}

/**
 * Writes come from our own page or from a client that is not a browser: a cross-site
 * `Origin` (or `Sec-Fetch-Site`) is refused, so another site cannot post with a stored token.
 */
export function checkOrigin(req: http.IncomingMessage): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `cross-site request (Sec-Fetch-Site: ${String(site).slice(0, 40)}) refused`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    // "null" and other opaque origins fall through to the refusal.
  }
  const host = (req.headers.host ?? '').toLowerCase();
  if (
    parsed &&
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.host === host
  ) {
    return null;
  }
  return `Origin "${origin.slice(0, 100)}" is not this server; write from the nanocell page`;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** The token of a request: the Bearer header if there is one, else `?token=`. */
export function givenToken(req: http.IncomingMessage, url: URL): string {
  const header = req.headers.authorization;
  if (header !== undefined) return header.startsWith('Bearer ') ? header.slice(7) : '';
  return url.searchParams.get('token') ?? '';
}

export function resolveCredential(
  token: string,
  ownerToken: string,
  memberLink: (token: string) => { id: string; chatId: string } | undefined,
): WebCredential | null {
  if (token === '') return null;
  if (sameSecret(token, ownerToken)) return { kind: 'owner' };
  const link = memberLink(token);
  return link ? { kind: 'member', linkId: link.id, chatId: link.chatId } : null;
}

export function onlyYourChat(credential: WebCredential): string {
  return credential.kind === 'member'
    ? `this link opens chat "${credential.chatId}" only`
    : 'not allowed';
}

/** The owner may speak for others in a test chat (senderName); a member is always its link. */
export function senderOf(credential: WebCredential): {
  defaultName: string;
  id: (senderName: string) => string;
} {
  if (credential.kind === 'owner') return { defaultName: 'owner', id: (name) => `web:${name}` };
  return { defaultName: 'guest', id: () => `web-link:${credential.linkId}` };
}
