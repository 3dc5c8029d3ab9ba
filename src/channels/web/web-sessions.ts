import crypto from 'node:crypto';
import { RecentItems } from './recent-items.js';

export const SESSION_COOKIE = 'nanocell_session';
const DAY_MS = 86_400_000;
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export interface WebSessionsOptions {
  now?: () => number;
  /** Sessions kept; the oldest is signed out first. */
  maxSessions?: number;
  ttlMs?: number;
}

/**
 * Browser sign-ins: the printed link's token is traded for a random session id in an
 * HttpOnly cookie, so the token leaves the address bar (and history, and screenshots). A
 * session remembers the token, not what it opened: a member link revoked since is refused
 * on the next request. Kept in memory: a restarted host asks for the link again.
 */
export class WebSessions {
  private readonly sessions: RecentItems<{ token: string; expiresAtMs: number }>;
  private readonly now: () => number;
  readonly ttlMs: number;

  constructor(options: WebSessionsOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.ttlMs = options.ttlMs ?? 30 * DAY_MS;
    this.sessions = new RecentItems(options.maxSessions ?? 1000);
  }

  /** A new session for a token already checked; returns the Set-Cookie value. */
  open(token: string): string {
    const id = crypto.randomBytes(32).toString('base64url');
    this.sessions.set(id, { token, expiresAtMs: this.now() + this.ttlMs });
    const maxAge = Math.floor(this.ttlMs / 1000);
    return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}`;
  }

  /** The token of the request's session cookie; '' without a live session. */
  tokenOf(cookieHeader: string | undefined): string {
    const id = sessionIdOf(cookieHeader);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session || session.expiresAtMs <= this.now()) return '';
    return session.token;
  }
}

function sessionIdOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader || cookieHeader.length > 8192) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === SESSION_COOKIE && value !== undefined && SESSION_ID.test(value)) return value;
  }
  return undefined;
}
