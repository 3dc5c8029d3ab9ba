import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';
import { openEvents, request, type EventStream } from '../support/web-client.js';

const inChat = (chatId: string) => (data: Record<string, unknown>) => data.chatId === chatId;

/**
 * The web API attacked by a member of a shared chat and by other web pages, over real HTTP
 * against the real host: a member link opens its one chat, never the owner's chat, its
 * approvals or its events; forged Host and cross-origin writes are refused.
 */
describe('web chat access', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess;
  let port: number;
  let memberToken: string;
  const owner = () => ({
    authorization: `Bearer ${host.token}`,
    'content-type': 'application/json',
  });
  const member = () => ({
    authorization: `Bearer ${memberToken}`,
    'content-type': 'application/json',
  });
  const post = (headers: Record<string, string>, pathname: string, body: unknown) =>
    request(port, 'POST', pathname, headers, JSON.stringify(body));
  const errorOf = (body: string) => (JSON.parse(body) as { error: string }).error;

  beforeAll(async () => {
    model = await startFakeModelServer();
    home = tempHome();
    const configDir = path.join(home.dir, 'owner-config');
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: configDir,
      NANOCELL_MODEL_MAX_RETRIES: '0',
    };
    fs.mkdirSync(path.join(configDir, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(configDir, 'policy', 'groups', 'family.policy'),
      'ask write_file path="/workspace/group/shared/**"\n',
    );
    for (const [name, chat] of [
      ['family', 'web:family'],
      ['school', 'web:school'],
    ]) {
      expect(
        (await runCli(['groups', 'add', name!, '--chat', chat!, '--no-trigger'], env)).code,
      ).toBe(0);
    }
    host = await startHost(env);
    port = Number(new URL(host.url).port);
    const linked = await runCli(['groups', 'link', 'family'], env);
    expect(linked.code).toBe(0);
    const link = new URL(/(http:\/\/\S+)/.exec(linked.stdout)![1]!);
    expect(link.port).toBe(String(port));
    expect(link.searchParams.get('chat')).toBe('family');
    memberToken = link.searchParams.get('token')!;
    expect(memberToken).not.toBe(host.token);
    // The token is kept hashed: it is nowhere in the data dir.
    const links = fs.readFileSync(path.join(env.NANOCELL_HOME!, 'web-links.json'), 'utf8');
    expect(links).not.toContain(memberToken);
    expect(fs.statSync(path.join(env.NANOCELL_HOME!, 'web-links.json')).mode & 0o077).toBe(0);
  });
  afterAll(async () => {
    await host?.stop();
    await model?.close();
    home?.cleanup();
  });

  it('lets a member link read and write its own chat', async () => {
    const events = await openEvents(port, '/api/events', member());
    await events.connected;
    model.enqueue(reply().text('hello, family'));

    const res = await post(member(), '/api/chats/family/messages', {
      text: 'hi all',
      senderName: 'Ana',
    });

    expect(res.status).toBe(202);
    // The run shows a working indicator, then the reply.
    await events.next('typing', inChat('family'));
    expect((await events.next('message', inChat('family'))).data.text).toBe('hello, family');
    const read = await request(port, 'GET', '/api/chats/family/messages', member());
    expect(read.status).toBe(200);
    const messages = (JSON.parse(read.body) as { messages: Array<{ text: string }> }).messages;
    expect(messages.map((m) => m.text)).toEqual(['hi all', 'hello, family']);
    events.close();
  });

  it.each([
    { what: "the owner's admin chat", method: 'GET', path: '/api/chats/owner/messages' },
    { what: 'another group’s chat', method: 'GET', path: '/api/chats/school/messages' },
    { what: 'a write to another group’s chat', method: 'POST', path: '/api/chats/school/messages' },
    { what: 'the host status', method: 'GET', path: '/api/status' },
  ])('refuses a member link $what', async ({ method, path: p }) => {
    const res = await request(
      port,
      method,
      p,
      member(),
      method === 'POST' ? '{"text":"hi"}' : undefined,
    );

    expect(res.status).toBe(403);
    expect(errorOf(res.body)).toBe('this link opens chat "family" only');
  });

  it('keeps approvals from a member: no events, no answer; the owner answers with the button', async () => {
    const ownerEvents = await openEvents(port, '/api/events', owner());
    const memberEvents = await openEvents(port, '/api/events', member());
    await ownerEvents.connected;
    await memberEvents.connected;
    // The owner's chat is where approvals are asked.
    model.enqueue(reply().text('hi owner'));
    expect((await post(owner(), '/api/chats/owner/messages', { text: 'hello' })).status).toBe(202);
    await ownerEvents.next('message', inChat('owner'));

    model.enqueue(
      reply().tool('write_file', { path: 'shared/plan.txt', content: 'picnic' }),
      reply().text('written'),
    );
    expect(
      (await post(member(), '/api/chats/family/messages', { text: 'write the plan' })).status,
    ).toBe(202);
    const question = (await ownerEvents.next('message', inChat('owner'))).data;
    const code = /\b([A-Z2-9]{6})\b/.exec(question.text as string)![1]!;
    expect(question.actions).toEqual([
      { id: `yes ${code}`, label: 'Approve' },
      { id: `no ${code}`, label: 'Deny' },
    ]);

    const typed = await post(member(), '/api/chats/owner/messages', { text: `yes ${code}` });
    const clicked = await post(member(), '/api/chats/owner/actions', { actionId: `yes ${code}` });
    const forged = await post(member(), '/api/chats/family/actions', { actionId: `yes ${code}` });
    expect([typed.status, clicked.status, forged.status]).toEqual([403, 403, 404]);

    const approved = await post(owner(), '/api/chats/owner/actions', { actionId: `yes ${code}` });
    expect(approved.status).toBe(202);
    expect((await ownerEvents.next('message', inChat('owner'))).data.text).toMatch(/^Approved/);
    expect((await memberEvents.next('message', inChat('family'))).data.text).toBe('written');
    expect(
      fs.readFileSync(
        path.join(env.NANOCELL_HOME!, 'groups', 'family', 'shared', 'plan.txt'),
        'utf8',
      ),
    ).toBe('picnic');
    // Everything the owner's chat got was sent before "written": the member saw none of it.
    expect(memberEvents.seen().filter((e) => e.data.chatId !== 'family')).toEqual([]);
    ownerEvents.close();
    memberEvents.close();
  });

  it('sends a member only its chat’s events', async () => {
    const memberEvents: EventStream = await openEvents(port, '/api/events', member());
    await memberEvents.connected;
    model.enqueue(reply().text('school reply'));
    const ownerEvents = await openEvents(port, '/api/events', owner());
    await ownerEvents.connected;
    expect((await post(owner(), '/api/chats/school/messages', { text: 'homework?' })).status).toBe(
      202,
    );
    await ownerEvents.next('message', inChat('school'));
    model.enqueue(reply().text('family reply'));
    expect((await post(member(), '/api/chats/family/messages', { text: 'dinner?' })).status).toBe(
      202,
    );
    await memberEvents.next('message', inChat('family'));

    expect(memberEvents.seen().map((e) => e.data.chatId)).not.toContain('school');
    memberEvents.close();
    ownerEvents.close();
  });

  it.each([
    { what: 'an attacker name (DNS rebinding)', host: 'attacker.example', ourPort: false },
    { what: 'an attacker name on our port', host: 'attacker.example', ourPort: true },
    { what: 'loopback on another port', host: '127.0.0.1:1', ourPort: false },
    { what: 'localhost without the port', host: 'localhost', ourPort: false },
  ])('refuses a request whose Host is $what', async ({ host: forged, ourPort }) => {
    const hostHeader = ourPort ? `${forged}:${port}` : forged;
    for (const p of ['/', '/api/status', '/api/chats/owner/messages']) {
      const res = await request(port, 'GET', p, { ...owner(), host: hostHeader });
      expect(res.status).toBe(421);
      expect(errorOf(res.body)).toMatch(/is not this server/);
    }
  });

  it('refuses a request with no Host at all', async () => {
    // Node's server answers an HTTP/1.1 request without Host with 400 before we see it.
    const res = await request(port, 'GET', '/api/status', { ...owner(), host: '' });
    expect(res.status).toBe(400);
  });

  it.each(['localhost', '[::1]'])('answers the owner on %s with our port', async (name) => {
    const res = await request(port, 'GET', '/api/status', { ...owner(), host: `${name}:${port}` });
    expect(res.status).toBe(200);
  });

  it.each<{ what: string; headers: Record<string, string> }>([
    { what: 'another site’s Origin', headers: { origin: 'http://attacker.example' } },
    { what: 'an opaque Origin', headers: { origin: 'null' } },
    { what: 'a cross-site fetch', headers: { 'sec-fetch-site': 'cross-site' } },
  ])('refuses a write with $what, even with the owner token', async ({ headers }) => {
    const before = await request(port, 'GET', '/api/chats/family/messages', owner());

    const res = await post({ ...owner(), ...headers }, '/api/chats/family/messages', {
      text: 'csrf',
    });

    expect(res.status).toBe(403);
    expect(await request(port, 'GET', '/api/chats/family/messages', owner())).toEqual(before);
  });

  it('accepts a write from its own page (same Origin)', async () => {
    model.enqueue(reply().text('same origin ok'));
    const res = await post(
      { ...owner(), origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
      '/api/chats/school/messages',
      { text: 'from the page' },
    );
    expect(res.status).toBe(202);
  });

  it('answers a message to a chat bound to no group with 403 and the reason', async () => {
    const res = await post(owner(), '/api/chats/nowhere/messages', { text: 'hello?' });

    expect(res.status).toBe(403);
    expect(errorOf(res.body)).toContain('chat web:nowhere is not bound to any group');
    expect(res.body).not.toContain('"stored":true');
  });

  it('binds web:NAME for a group without a web chat, and links that chat', async () => {
    expect((await runCli(['groups', 'add', 'club', '--no-trigger'], env)).code).toBe(0);

    const linked = await runCli(['groups', 'link', 'club'], env);

    expect(linked.code).toBe(0);
    const link = new URL(/(http:\/\/\S+)/.exec(linked.stdout)![1]!);
    expect(link.searchParams.get('chat')).toBe('club');
    const token = { authorization: `Bearer ${link.searchParams.get('token')!}` };
    expect((await request(port, 'GET', '/api/chats/club/messages', token)).status).toBe(200);
    expect((await request(port, 'GET', '/api/chats/family/messages', token)).status).toBe(403);
    const list = await runCli(['groups', 'list'], env);
    expect(list.stdout).toMatch(/^club\t.*web:club/m);
  });

  it('gives the admin group no link, and a revoked link opens nothing', async () => {
    const admin = await runCli(['groups', 'link', 'main'], env);
    expect(admin.code).toBe(1);
    expect(admin.stderr).toContain('gets no shared link');

    const open = await openEvents(port, '/api/events', member());
    await open.connected;

    const revoked = await runCli(['groups', 'unlink', 'family'], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('revoked 1 web link');
    const res = await request(port, 'GET', '/api/chats/family/messages', member());
    expect(res.status).toBe(401);
    // A stream opened before the revocation ends at the chat's next event, unread.
    model.enqueue(reply().text('after the revocation'));
    expect(
      (await post(owner(), '/api/chats/family/messages', { text: 'still there?' })).status,
    ).toBe(202);
    await open.ended;
    expect(open.seen().map((e) => e.data.text)).not.toContain('after the revocation');
  });
});
