import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEvents, request } from '../../../test/support/web-client.js';
import type { ToolStepInfo } from './dashboard-types-activity.js';
import type { AuditQuery, OwnerActivityApi } from './owner-api-activity.js';
import { WebChannel } from './web-channel.js';

const OWNER = 'owner-token-0123456789';
const MEMBER = 'member-token-for-family';

const step: ToolStepInfo = {
  id: 'c1',
  group: 'family',
  tool: 'bash',
  input: { command: 'ls' },
  output: 'a.txt',
  outputCut: false,
  isError: false,
  decision: 'allow',
  rule: null,
  durationMs: 4,
  at: '2026-01-01T10:00:00.000Z',
};

describe('WebChannel activity routes and tool events', () => {
  let channel: WebChannel;
  let port: number;
  const queries: AuditQuery[] = [];
  const activity: OwnerActivityApi = {
    toolSteps: (group) =>
      group === 'family' ? { ok: true, steps: [step] } : { ok: false, reason: 'no group' },
    audit: (q) => {
      queries.push(q);
      return [];
    },
    egress: (q) => {
      queries.push(q);
      return [];
    },
  };
  beforeAll(async () => {
    channel = new WebChannel({
      port: 0,
      ownerToken: OWNER,
      memberLink: (token) => (token === MEMBER ? { id: 'ab12', chatId: 'family' } : undefined),
      history: () => [],
      ownerActivity: activity,
    });
    await channel.start({
      onMessage: async () => ({ status: 'stored', id: 1 }),
      onAction: async () => ({ status: 'stored', id: 1 }),
    });
    port = Number(new URL(channel.url).port);
  });
  afterAll(async () => {
    await channel.stop();
  });
  const get = (path: string, token = OWNER) =>
    request(port, 'GET', path, { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` });

  it("streams a run's tool calls to the owner, never to a member link", async () => {
    const owner = await openEvents(port, '/api/events', { authorization: `Bearer ${OWNER}` });
    const member = await openEvents(port, '/api/events', { authorization: `Bearer ${MEMBER}` });
    await Promise.all([owner.connected, member.connected]);

    channel.toolStep(step);
    await channel.typing('family');

    expect((await owner.next('tool')).data).toEqual(step);
    await member.next('typing');
    expect(member.seen().map((e) => e.event)).toEqual(['typing']);
    owner.close();
    member.close();
  });

  it('answers the owner only', async () => {
    const res = await get('/api/tool-steps?group=family', MEMBER);
    expect(res.status).toBe(403);
    expect(JSON.parse((await get('/api/tool-steps?group=family')).body)).toEqual({ steps: [step] });
    expect((await get('/api/tool-steps?group=zzz')).status).toBe(404);
  });

  it('passes validated filters through and refuses a bad one, saying which and how', async () => {
    const ok = await get(
      '/api/audit/search?type=tool_call&group=family&tool=bash&decision=deny&since=2026-01-01T00:00:00Z&limit=20',
    );
    expect(ok.status).toBe(200);
    expect(queries.at(-1)).toEqual({
      type: 'tool_call',
      group: 'family',
      tool: 'bash',
      decision: 'deny',
      since: '2026-01-01T00:00:00Z',
      limit: 20,
    });

    const bad = await get('/api/audit/search?type=nope&since=yesterday&limit=9999&x=1');
    expect(bad.status).toBe(400);
    const { error } = JSON.parse(bad.body) as { error: string };
    expect(error).toMatch(/^bad filter: /);
    expect(error).toContain('type');
    expect(error).toContain('since: an ISO time like 2026-12-04T10:00:00Z');
    expect(error).toContain('limit');

    expect((await get('/api/egress?decision=allowed&group=family')).status).toBe(200);
    expect(queries.at(-1)).toEqual({ decision: 'allowed', group: 'family', limit: 100 });
    expect((await get('/api/egress?decision=allow')).status).toBe(400);
    expect(
      (await request(port, 'POST', '/api/egress', { authorization: `Bearer ${OWNER}` })).status,
    ).toBe(405);
  });
});
