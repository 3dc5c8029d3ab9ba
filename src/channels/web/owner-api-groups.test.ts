import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../../test/support/web-client.js';
import type { GroupChangeRequest } from './dashboard-types-groups.js';
import type { OwnerGroupsApi } from './owner-api-groups.js';
import { WebChannel } from './web-channel.js';

const OWNER = 'owner-token-0123456789';
const MEMBER = 'member-token-for-family';

/** The groups API over fixed answers; records each change it is handed. */
function groupsData(seen: Array<[string, GroupChangeRequest]>): OwnerGroupsApi {
  return {
    group: (name) =>
      name === 'family'
        ? {
            name,
            isAdmin: false,
            chats: [],
            requiresTrigger: true,
            trigger: null,
            model: null,
            mounts: [],
          }
        : undefined,
    changeGroup: (name, change) => {
      seen.push([name, change]);
      return change.action === 'remove'
        ? { ok: false, reason: 'the admin group cannot be removed', field: 'name' }
        : { ok: true, group: null, text: 'done' };
    },
    previewSchedule: () => ({ ok: false, error: 'Invalid schedule: nope' }),
    createTask: () => ({ ok: true, id: 3 }),
    runTaskNow: (id) => (id === 3 ? { ok: true } : { ok: false, reason: `no task #${id}` }),
    activity: () => ({
      runtime: 'bwrap',
      cells: [],
      queue: [],
      totals: { running: 0, waiting: 0 },
    }),
    usage: () => ({ withCost: true, problem: null, groups: [] }),
    files: (_group, path) =>
      path === ''
        ? { ok: true, view: { kind: 'dir', path: '', entries: [], truncated: false } }
        : { ok: false, reason: `"${path}" is not a path inside the group folder` },
    changes: () => ({ ok: true, changes: { lastRun: null } }),
  };
}

describe('owner routes for groups, tasks, activity and usage', () => {
  let channel: WebChannel;
  let port: number;
  const seen: Array<[string, GroupChangeRequest]> = [];
  beforeAll(async () => {
    channel = new WebChannel({
      port: 0,
      ownerToken: OWNER,
      memberLink: (token) => (token === MEMBER ? { id: 'ab12', chatId: 'family' } : undefined),
      history: () => [],
      ownerGroups: groupsData(seen),
    });
    await channel.start({
      onMessage: async () => ({ status: 'stored', id: 1 }),
      onAction: async () => ({ status: 'stored', id: 1 }),
    });
    port = Number(new URL(channel.url).port);
  });
  afterAll(() => channel.stop());
  const as = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    ...extra,
  });
  const post = (path: string, body: unknown, token = OWNER, extra: Record<string, string> = {}) =>
    request(port, 'POST', path, as(token, extra), JSON.stringify(body));

  it('answers the owner only: a member link and no credential are refused', async () => {
    for (const path of [
      '/api/activity',
      '/api/usage',
      '/api/groups/family',
      '/api/groups/family/files',
    ]) {
      expect((await request(port, 'GET', path, as(OWNER))).status).toBe(200);
      expect((await request(port, 'GET', path, as(MEMBER))).status).toBe(403);
      expect((await request(port, 'GET', path)).status).toBe(401);
    }
    expect(
      (await post('/api/groups/family', { action: 'bind', chat: 'telegram:1' }, MEMBER)).status,
    ).toBe(403);
    expect(seen).toEqual([]);
  });

  it('refuses a change posted from another site', async () => {
    const res = await post('/api/groups/family', { action: 'remove' }, OWNER, {
      origin: 'https://evil.example',
    });
    expect(res.status).toBe(403);
    expect(seen).toEqual([]);
  });

  it('checks a change with its schema and says which field is wrong', async () => {
    const res = await post('/api/groups/family', {
      action: 'mount',
      hostPath: '/srv',
      readOnly: 'yes',
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      field: 'readOnly',
      error: expect.stringMatching(/^readOnly: /),
    });
    const create = await post('/api/groups/family', { action: 'create', name: 'x' });
    expect(JSON.parse(create.body).error).toBe(
      'create a group with POST /api/groups; change one with POST /api/groups/NAME',
    );
  });

  it('hands a valid change to the host and returns its refusal with the field', async () => {
    expect(
      (await post('/api/groups', { action: 'create', name: 'kids', noTrigger: true })).status,
    ).toBe(200);
    const removed = await post('/api/groups/main', { action: 'remove' });

    expect(removed.status).toBe(409);
    expect(JSON.parse(removed.body)).toEqual({
      error: 'the admin group cannot be removed',
      field: 'name',
    });
    expect(seen).toEqual([
      ['', { action: 'create', name: 'kids', noTrigger: true }],
      ['main', { action: 'remove' }],
    ]);
  });

  it('creates a task, previews a schedule, and runs a task now', async () => {
    expect(
      JSON.parse(
        (await post('/api/tasks', { group: 'main', prompt: 'p', schedule: { kind: 'x' } })).body,
      ),
    ).toEqual({ id: 3 });
    expect(
      JSON.parse((await post('/api/tasks/preview', { schedule: { kind: 'x' } })).body),
    ).toEqual({
      ok: false,
      error: 'Invalid schedule: nope',
    });
    expect((await post('/api/tasks/3/run', {})).status).toBe(202);
    expect(JSON.parse((await post('/api/tasks/4/run', {})).body)).toEqual({ error: 'no task #4' });
  });

  it('refuses a file path outside the folder with the reason', async () => {
    const res = await request(
      port,
      'GET',
      '/api/groups/family/files?path=..%2F..%2Fetc',
      as(OWNER),
    );
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).error).toContain('not a path inside the group folder');
  });
});
