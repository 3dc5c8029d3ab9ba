import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../../test/support/web-client.js';
import type { TaskAction } from './dashboard-types.js';
import { DASHBOARD_CSP } from './dashboard-files.js';
import type { OwnerApi } from './owner-api.js';
import { WebChannel } from './web-channel.js';

const OWNER = 'owner-token-0123456789';
const MEMBER = 'member-token-for-family';

/** The owner API as the host would hand it in, over fixed data; records task changes. */
function ownerData(changes: Array<[number, TaskAction]>): OwnerApi {
  return {
    chats: () => [{ chatId: 'owner', group: 'main', isAdmin: true }],
    approvals: () => [
      {
        code: 'K3F9QX',
        group: 'family',
        tool: 'bash',
        input: { command: 'rm -rf /workspace/tmp' },
        createdAt: '2026-01-01T10:00:00.000Z',
        expiresAt: '2026-01-01T10:10:00.000Z',
      },
    ],
    groups: () => [
      { name: 'main', isAdmin: true, chats: ['web:owner'], trigger: null, model: null },
    ],
    tasks: () => [],
    changeTask: (id, action) => {
      changes.push([id, action]);
      return id === 7
        ? {
            ok: true,
            task: {
              id,
              group: 'main',
              prompt: 'p',
              schedule: 'every day',
              status: 'paused',
              nextRunAt: null,
              lastRunAt: null,
              runs: [],
            },
          }
        : { ok: false, reason: `no task #${id}` };
    },
    audit: (limit) => [
      { seq: 1, ts: '2026-01-01T10:00:00.000Z', type: 'startup', detail: { limit } },
    ],
    verifyAudit: () => ({ ok: true, records: 1 }),
  };
}

describe('WebChannel dashboard: files, sign-in, owner API', () => {
  let channel: WebChannel;
  let port: number;
  let dir: string;
  const changes: Array<[number, TaskAction]> = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-dash-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>dash</title>');
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.css'), 'body{}');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a type we serve');
    fs.symlinkSync('/etc/passwd', path.join(dir, 'assets', 'passwd.js'));
    channel = new WebChannel({
      port: 0,
      ownerToken: OWNER,
      memberLink: (token) => (token === MEMBER ? { id: 'ab12', chatId: 'family' } : undefined),
      history: () => [],
      dashboardDir: dir,
      owner: ownerData(changes),
    });
    await channel.start({
      onMessage: async () => ({ status: 'stored', id: 1 }),
      onAction: async () => ({ status: 'stored', id: 1 }),
    });
    port = Number(new URL(channel.url).port);
  });
  afterAll(async () => {
    await channel.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const signIn = async (token: string, query = '') => {
    const res = await request(port, 'GET', `/?${query}token=${encodeURIComponent(token)}`);
    const cookie = String(res.headers['set-cookie'] ?? '').split(';')[0]!;
    return { res, cookie };
  };

  it('serves the built page and its files with their types, a strict CSP and caching', async () => {
    const page = await request(port, 'GET', '/');
    const js = await request(port, 'GET', '/assets/index-abc123.js');
    const css = await request(port, 'GET', '/assets/index-abc123.css');

    expect(page.body).toBe('<!doctype html><title>dash</title>');
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
    });
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it.each(['/notes.txt', '/assets/passwd.js', '/assets/../index.html/x', '/elsewhere'])(
    'serves nothing else: %s is 404',
    async (p) => {
      expect((await request(port, 'GET', p)).status).toBe(404);
    },
  );

  it('trades the link token for an HttpOnly, SameSite=Strict cookie and drops it from the address', async () => {
    const { res, cookie } = await signIn(OWNER, 'chat=owner&');

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/?chat=owner');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^nanocell_session=o\.\d+\.[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//,
    );
    expect(setCookie).not.toContain(OWNER);
    const me = await request(port, 'GET', '/api/me', { cookie });
    expect(JSON.parse(me.body)).toEqual({ kind: 'owner' });
  });

  it('sends a sign-in only to its own page, never to another site', async () => {
    const res = await request(port, 'GET', `/.//evil.example/?token=${OWNER}`);

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  it('shows a page saying what to do for a wrong token, and sets no cookie', async () => {
    const { res } = await signIn('not-the-token');

    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toContain('This link does not work');
    expect(res.body).toContain('nanocell groups link NAME');
  });

  it('refuses a made-up session cookie', async () => {
    const res = await request(port, 'GET', '/api/me', {
      cookie: `nanocell_session=${'a'.repeat(43)}`,
    });

    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error).toMatch(/^missing or wrong token: open the link/);
  });

  it('signs a member link in to its one chat; the owner API stays closed to it', async () => {
    const { cookie } = await signIn(MEMBER, 'chat=family&');

    const me = await request(port, 'GET', '/api/me', { cookie });
    const chats = await request(port, 'GET', '/api/chats', { cookie });
    expect(JSON.parse(me.body)).toEqual({ kind: 'member', chatId: 'family' });
    expect(JSON.parse(chats.body).chats).toEqual([
      { chatId: 'family', group: null, isAdmin: false },
    ]);
    for (const [method, p] of [
      ['GET', '/api/approvals'],
      ['GET', '/api/groups'],
      ['GET', '/api/tasks'],
      ['GET', '/api/audit'],
      ['POST', '/api/audit/verify'],
      ['POST', '/api/tasks/7/pause'],
    ] as const) {
      const res = await request(port, method, p, { cookie });
      expect([p, res.status]).toEqual([p, 403]);
    }
    expect(changes).toEqual([]);
  });

  it('answers the owner API to the owner, by cookie or by Bearer token', async () => {
    const { cookie } = await signIn(OWNER);
    const bearer = { authorization: `Bearer ${OWNER}` };

    const approvals = JSON.parse((await request(port, 'GET', '/api/approvals', { cookie })).body);
    const groups = JSON.parse((await request(port, 'GET', '/api/groups', bearer)).body);
    const audit = JSON.parse((await request(port, 'GET', '/api/audit?limit=5', { cookie })).body);
    const verified = await request(port, 'POST', '/api/audit/verify', { cookie });

    expect(approvals.approvals[0]).toMatchObject({
      code: 'K3F9QX',
      input: { command: 'rm -rf /workspace/tmp' },
    });
    expect(groups.groups[0].name).toBe('main');
    expect(audit.records[0].detail).toEqual({ limit: 5 });
    expect(JSON.parse(verified.body)).toEqual({ ok: true, records: 1 });
    expect((await request(port, 'GET', '/api/audit?limit=0', { cookie })).status).toBe(400);
  });

  it('changes a task, and says why it could not', async () => {
    const { cookie } = await signIn(OWNER);

    const paused = await request(port, 'POST', '/api/tasks/7/pause', { cookie });
    const missing = await request(port, 'POST', '/api/tasks/8/cancel', { cookie });
    const wrongMethod = await request(port, 'GET', '/api/tasks/7/pause', { cookie });

    expect(paused.status).toBe(200);
    expect(JSON.parse(paused.body).status).toBe('paused');
    expect(missing.status).toBe(409);
    expect(JSON.parse(missing.body).error).toBe('no task #8');
    expect(wrongMethod.status).toBe(405);
    expect(changes).toEqual([
      [7, 'pause'],
      [8, 'cancel'],
    ]);
  });

  it('refuses a cookie-authenticated write from another site', async () => {
    const { cookie } = await signIn(OWNER);

    const res = await request(port, 'POST', '/api/tasks/7/resume', {
      cookie,
      origin: 'https://evil.example',
    });

    expect(res.status).toBe(403);
  });
});
