import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../../test/support/web-client.js';
import type { OwnerPolicyApi } from './owner-api-policy.js';
import { WebChannel } from './web-channel.js';

const OWNER = 'owner-token-0123456789';
const MEMBER = 'member-token-for-family';

describe('WebChannel policy routes', () => {
  let channel: WebChannel;
  let port: number;
  const saved: Array<[string, string]> = [];
  const policy: OwnerPolicyApi = {
    files: () => [{ file: 'default.policy', scope: 'every group', exists: true }],
    read: (file) => ({ ok: true, file: { file, text: 'deny bash\n', exists: true } }),
    check: () => ({ errors: [{ line: 1, message: 'unknown effect' }], warnings: [], rules: 0 }),
    save: (file, text) => {
      saved.push([file, text]);
      return { ok: true, check: { errors: [], warnings: [], rules: 1 } };
    },
    explain: () => ({ decision: 'deny', lines: ['deny'] }),
    always: (code) => ({ ok: false, reason: `no approval ${code} is waiting` }),
    alwaysRules: () => [],
    undoAlways: () => ({ ok: true }),
  };
  beforeAll(async () => {
    channel = new WebChannel({
      port: 0,
      ownerToken: OWNER,
      memberLink: (token) => (token === MEMBER ? { id: 'ab12', chatId: 'family' } : undefined),
      history: () => [],
      ownerPolicy: policy,
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
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    request(
      port,
      'POST',
      path,
      { authorization: `Bearer ${OWNER}`, 'content-type': 'application/json', ...headers },
      JSON.stringify(body),
    );

  it('answers the owner only', async () => {
    const member = await request(port, 'GET', '/api/policy/files', {
      authorization: `Bearer ${MEMBER}`,
    });
    expect(member.status).toBe(403);
    const owner = await request(port, 'GET', '/api/policy/files', {
      authorization: `Bearer ${OWNER}`,
    });
    expect(JSON.parse(owner.body)).toEqual({ files: policy.files() });
  });

  it('refuses a write from another site, and saves nothing', async () => {
    const res = await post(
      '/api/policy/save',
      { file: 'default.policy', text: 'allow *\n' },
      { origin: 'https://evil.example' },
    );
    expect(res.status).toBe(403);
    expect(saved).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['/api/policy/save', { file: '../etc/passwd', text: '' }, /^file: default\.policy, groups/],
    ['/api/policy/save', { file: 'default.policy' }, /^text: /],
    ['/api/policy/check', 'not an object', /^body: /],
    ['/api/policy/explain', { group: 'main', tool: 'bash', input: 'ls' }, /^input: /],
    ['/api/policy/always', { code: 'k3; rm' }, /^code: an approval code/],
    ['/api/policy/always/undo', { file: 'default.policy', line: 0, rule: 'x' }, /^line: /],
  ])('POST %s %j → 400 saying what is wrong', async (path, body, error) => {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as { error: string }).error).toMatch(error);
  });

  it('checks without saving, saves, and answers refusals as 409 with the reason', async () => {
    const checked = await post('/api/policy/check', { file: 'default.policy', text: 'alow x' });
    expect(JSON.parse(checked.body)).toMatchObject({ errors: [{ line: 1 }] });
    expect(saved).toEqual([]);
    expect(
      (await post('/api/policy/save', { file: 'groups/main.policy', text: 'deny bash\n' })).status,
    ).toBe(200);
    expect(saved).toEqual([['groups/main.policy', 'deny bash\n']]);
    const always = await post('/api/policy/always', { code: 'K3F9QX' });
    expect(always.status).toBe(409);
    expect(JSON.parse(always.body)).toEqual({ error: 'no approval K3F9QX is waiting' });
  });
});
