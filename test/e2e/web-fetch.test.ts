import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../support/fake-model-server.js';
import { canRunNetns, startEgressNetns, type EgressNetns } from '../support/egress-netns.js';

/**
 * web_fetch end to end (see egress-netns.ts): the real host process asks its own egress proxy,
 * which decides each request by the group's rules and audits it. https under a domain rule
 * goes through a CONNECT tunnel with the certificate verified by the host; under a GET rule
 * the proxy reads the request and sends it on over HTTPS itself (the test's CA is trusted
 * through NODE_EXTRA_CA_CERTS). The tests run in order: one data dir, one session label, which
 * the first page read turns untrusted (src/guard).
 */
type Block = { type: string; content?: string; is_error?: boolean };

const POST =
  'curl -s -o /dev/null -w "post=%{http_code}" --max-time 10 -X POST -d x http://docs.example/upload';

describe.skipIf(!canRunNetns && !process.env.CI)('web_fetch through the real proxy', () => {
  let world: EgressNetns;

  beforeAll(async () => {
    world = await startEgressNetns(['docs.example', 'news.example']);
    fs.writeFileSync(
      path.join(world.configDir, 'policy', 'groups', 'main.policy'),
      'allow http domain="docs.example"\nallow http domain="news.example" method=GET\n',
    );
  });
  afterAll(async () => {
    await world?.close();
  });

  /** Run one turn with these tool calls; the result of the last one. */
  async function lastResult(...calls: Array<[string, Record<string, unknown>]>): Promise<Block> {
    const before = world.model.requests.length;
    world.model.enqueue(
      ...calls.map(([name, input]) => reply().tool(name, input)),
      reply().text('done'),
    );
    const r = await world.ask('go');
    expect(r.code, r.stderr).toBe(0);
    const messages = world.model.requests[before + calls.length]!.body!.messages!;
    const [result] = (messages.at(-1)!.content as Block[]).filter((b) => b.type === 'tool_result');
    return result!;
  }

  it('reads an allowed https page as text, through a tunnel whose certificate the host verified', async () => {
    const result = await lastResult(['web_fetch', { url: 'https://docs.example/article.html' }]);
    expect(result.is_error ?? false).toBe(false);
    expect(result.content).toContain('Title: Café notes');
    expect(result.content).toContain('Upstream 443\n\nCrème & café');
    expect(result.content).not.toContain('steal()');
    expect(world.seen()).toContainEqual(
      expect.objectContaining({
        port: 443,
        method: 'GET',
        url: '/article.html',
        host: 'docs.example',
      }),
    );
    expect(world.egressAudit()).toContainEqual(
      expect.objectContaining({ host: 'docs.example', kind: 'connect', decision: 'allowed' }),
    );
  });

  it('has labelled the session: a POST from the cell is now held by the guard, and so is a tunnel', async () => {
    expect((await lastResult(['bash', { command: POST }])).content).toContain('post=403');
    expect(world.egressAudit()).toContainEqual(
      expect.objectContaining({
        host: 'docs.example',
        method: 'POST',
        decision: 'denied',
        reason: expect.stringContaining(
          'held by the guard: this run read a web response from docs.example',
        ) as unknown,
      }),
    );
    expect(world.seen().filter((s) => s.method === 'POST')).toEqual([]);
    const again = await lastResult(['web_fetch', { url: 'https://docs.example/article.html' }]);
    expect(again.is_error).toBe(true);
    expect(again.content).toContain('held by the guard');
    expect(again.content).toContain('A GET rule lets the proxy read the request');
    expect(again.content).toContain('allow http domain="docs.example" method=GET');
  });

  it('reads pages under a GET rule after that too: the proxy reads the request and goes out over TLS', async () => {
    const result = await lastResult(['web_fetch', { url: 'https://news.example/article.html' }]);
    expect(result.is_error ?? false).toBe(false);
    expect(result.content).toContain('Crème & café');
    expect(world.egressAudit()).toContainEqual(
      expect.objectContaining({
        host: 'news.example',
        kind: 'http',
        method: 'GET',
        decision: 'allowed',
        port: 443,
      }),
    );
  });

  it('refuses a site no rule allows, naming the rule, and the proxy audits the refusal', async () => {
    const seen = world.seen().length;
    const result = await lastResult(['web_fetch', { url: 'https://blocked.example/secret' }]);
    expect(result.is_error).toBe(true);
    expect(result.content).toContain('refused by the egress proxy');
    expect(result.content).toContain('allow http domain="blocked.example" method=GET');
    expect(world.seen()).toHaveLength(seen);
    expect(world.egressAudit()).toContainEqual(
      expect.objectContaining({ host: 'blocked.example', decision: 'denied' }),
    );
  });
});
