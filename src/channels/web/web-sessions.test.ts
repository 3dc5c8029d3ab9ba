import { describe, expect, it } from 'vitest';
import { WebSessions } from './web-sessions.js';

const OWNER = 'owner-token-0123456789';
const DAY = 86_400_000;
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('WebSessions', () => {
  it("keeps the owner's session over a restart (a new instance), until it expires", () => {
    let now = 1_700_000_000_000;
    const cookie = cookieOf(
      new WebSessions({ ownerToken: OWNER, now: () => now }).open(OWNER, 'owner'),
    );
    const restarted = new WebSessions({ ownerToken: OWNER, now: () => now });

    expect(cookie).not.toContain(OWNER);
    expect(restarted.tokenOf(`other=1; ${cookie}`)).toBe(OWNER);
    now += 31 * DAY;
    expect(restarted.tokenOf(cookie)).toBe('');
  });

  it("ends the owner's sessions when the owner's token is replaced", () => {
    const cookie = cookieOf(new WebSessions({ ownerToken: OWNER }).open(OWNER, 'owner'));

    expect(new WebSessions({ ownerToken: 'a-new-token-9876543210' }).tokenOf(cookie)).toBe('');
  });

  it('refuses an owner session with a changed expiry or signature', () => {
    const sessions = new WebSessions({ ownerToken: OWNER });
    const cookie = cookieOf(sessions.open(OWNER, 'owner'));
    const [, expiry, mac] = /o\.(\d+)\.(.+)$/.exec(cookie)!;
    const later = `nanocell_session=o.${Number(expiry) + DAY}.${mac}`;
    const forged = `nanocell_session=o.${expiry}.${'A'.repeat(43)}`;

    expect([sessions.tokenOf(later), sessions.tokenOf(forged)]).toEqual(['', '']);
  });

  it("keeps a member's session in memory only, standing for its link's token", () => {
    const sessions = new WebSessions({ ownerToken: OWNER });
    const cookie = cookieOf(sessions.open('member-token', 'member'));

    expect(sessions.tokenOf(cookie)).toBe('member-token');
    expect(cookie).not.toContain('member-token');
    expect(new WebSessions({ ownerToken: OWNER }).tokenOf(cookie)).toBe('');
  });

  it('drops the oldest member session past the cap', () => {
    const sessions = new WebSessions({ ownerToken: OWNER, maxSessions: 2 });
    const [a, b, c] = ['t1', 't2', 't3'].map((t) => cookieOf(sessions.open(t, 'member')));

    expect([a, b, c].map((x) => sessions.tokenOf(x))).toEqual(['', 't2', 't3']);
  });
});
