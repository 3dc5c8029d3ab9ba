import crypto from 'node:crypto';
import { RecentItems } from './recent-items.js';

export const SESSION_COOKIE = 'nanocell_session';
const DAY_MS = 86_400_000;
const MEMBER_SESSION = /^m\.[A-Za-z0-9_-]{43}$/;
const OWNER_SESSION = /^o\.(\d{13,15})\.([A-Za-z0-9_-]{43})$/;

export interface WebSessionsOptions {
  /** The owner's token: it signs the owner's sessions, and is what they stand for. */
  ownerToken: string;
  now?: () => number;
  /** Member sessions kept; the oldest is signed out first. */
  maxSessions?: number;
  ttlMs?: number;
}

/**
 * Browser sign-ins: the printed link's token is traded for a session in an HttpOnly cookie,
 * so the token leaves the address bar (and history, and screenshots).
 * - The owner's session is signed with the owner's token (HMAC, with its expiry), so it
 *   outlives a host restart and ends when the token is replaced.
 * - A member's session is a random id kept in memory with the link's token: a link revoked
 *   since is refused on the next request; a restarted host asks for the link again.
 */
export class WebSessions {
  private readonly members: RecentItems<{ token: string; expiresAtMs: number }>;
  private readonly now: () => number;
  readonly ttlMs: number;

  constructor(private readonly options: WebSessionsOptions) {
    this.now = options.now ?? (() => Date.now());
    this.ttlMs = options.ttlMs ?? 30 * DAY_MS;
    this.members = new RecentItems(options.maxSessions ?? 1000);
  }

  /** A new session for a token already checked; returns the Set-Cookie value. */
  open(token: string, kind: 'owner' | 'member'): string {
    const expiresAtMs = this.now() + this.ttlMs;
    let value: string;
    if (kind === 'owner') {
      value = `o.${expiresAtMs}.${this.sign(expiresAtMs)}`;
    } else {
      value = `m.${crypto.randomBytes(32).toString('base64url')}`;
      this.members.set(value, { token, expiresAtMs });
    }
    const maxAge = Math.floor(this.ttlMs / 1000);
    return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}`;
  }

  /** The token the request's session cookie stands for; '' without a live session. */
  tokenOf(cookieHeader: string | undefined): string {
    const value = sessionOf(cookieHeader);
    if (value === undefined) return '';
    const owner = OWNER_SESSION.exec(value);
    if (owner) {
      const expiresAtMs = Number(owner[1]);
      if (expiresAtMs <= this.now() || expiresAtMs > this.now() + this.ttlMs) return '';
      const given = Buffer.from(owner[2]!);
      const expected = Buffer.from(this.sign(expiresAtMs));
      return given.length === expected.length && crypto.timingSafeEqual(given, expected)
        ? this.options.ownerToken
        : '';
    }
    const member = MEMBER_SESSION.test(value) ? this.members.get(value) : undefined;
    if (!member || member.expiresAtMs <= this.now()) return '';
    return member.token;
  }

  private sign(expiresAtMs: number): string {
    return crypto
      .createHmac('sha256', this.options.ownerToken)
      .update(`nanocell owner session until ${expiresAtMs}`)
      .digest('base64url');
  }
}

function sessionOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader || cookieHeader.length > 8192) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === SESSION_COOKIE && value !== undefined) return value;
  }
  return undefined;
}
