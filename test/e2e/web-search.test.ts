import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../support/fake-model-server.js';
import { canRunNetns, startEgressNetns, type EgressNetns } from '../support/egress-netns.js';
import { REPO_ROOT } from '../support/run-cli.js';

/**
 * web_search end to end (see egress-netns.ts): the real host process asks its own egress
 * proxy, which decides each request by the group's rules, adds the Brave key from the owner's
 * credentials file and audits it; the fake APIs upstream speak Brave's and SearXNG's wire
 * formats (fake-search-upstream.cjs). The tests run in order: one data dir, one session
 * label, which the first search turns untrusted (src/guard).
 */
type Block = { type: string; content?: string; is_error?: boolean };

const SECRET = 'BSA-e2e-secret-key-4711';
const BRAVE = 'api.search.brave.com';

describe.skipIf(!canRunNetns && !process.env.CI)('web_search through the real proxy', () => {
  let world: EgressNetns;

  beforeAll(async () => {
    world = await startEgressNetns([BRAVE, 'searx.example', 'blocked.example'], {
      upstreamModule: path.join(REPO_ROOT, 'test', 'support', 'fake-search-upstream.cjs'),
    });
    fs.writeFileSync(
      path.join(world.configDir, 'policy', 'groups', 'main.policy'),
      `allow http domain="${BRAVE}" method=GET\nallow http domain="searx.example" method=GET\n`,
    );
    // The line the owner adds (README "Web access"): the key never enters the cell or the model.
    fs.writeFileSync(
      path.join(world.configDir, 'credentials', 'main.json'),
      JSON.stringify([
        { name: 'brave', host: BRAVE, header: 'x-subscription-token', secret: SECRET },
      ]),
    );
  });
  afterAll(async () => {
    await world?.close();
  });

  /** Run one turn with this tool call under these settings; its result. */
  async function search(env: Record<string, string>, input: Record<string, unknown>) {
    const before = world.model.requests.length;
    world.model.enqueue(reply().tool('web_search', input), reply().text('done'));
    const r = await world.ask('go', env);
    expect(r.code, r.stderr).toBe(0);
    const request = world.model.requests[before + 1]!.body!;
    const [result] = (request.messages!.at(-1)!.content as Block[]).filter(
      (b) => b.type === 'tool_result',
    );
    return { result: result!, everything: JSON.stringify(world.model.requests.slice(before)) };
  }
  const brave = { NANOCELL_WEB_SEARCH: 'brave' };
  const searxng = (host: string) => ({
    NANOCELL_WEB_SEARCH: 'searxng',
    NANOCELL_WEB_SEARCH_URL: `https://${host}`,
  });

  it('searches Brave with the key the proxy added, and the key never reaches the model', async () => {
    const { result, everything } = await search(brave, { query: 'tide tables', count: 3 });
    expect(result.is_error ?? false).toBe(false);
    expect(result.content).toContain(`Web results for "tide tables" from ${BRAVE}`);
    expect(result.content).toContain('1. Brave tide tables 1\n   https://brave-result-1.example/');
    expect(result.content).toContain('3. Brave tide tables 3');
    expect(result.content).not.toContain('4. Brave');
    const hit = world.seen().find((s) => s.host === BRAVE);
    expect(hit).toMatchObject({
      port: 443,
      method: 'GET',
      url: '/res/v1/web/search?q=tide+tables&count=3',
    });
    expect(hit!.headers?.['x-subscription-token']).toBe(SECRET);
    // The fake echoes the key it got: the proxy scrubbed it on the way back.
    expect(result.content).toContain('key seen: nanocell-cred-brave-');
    expect(everything).not.toContain(SECRET);
    expect(world.egressAudit()).toContainEqual(
      expect.objectContaining({
        host: BRAVE,
        kind: 'http',
        decision: 'allowed',
        credentials: [expect.stringMatching(/^nanocell-cred-brave-/) as unknown],
      }),
    );
  });

  it('has labelled the session: the next search with the key is held by the guard', async () => {
    const seen = world.seen().length;
    const { result } = await search(brave, { query: 'again' });
    expect(result.is_error).toBe(true);
    expect(result.content).toContain('held by the guard: this run read a web response');
    expect(result.content).toContain('/clear starts a fresh conversation');
    expect(world.seen()).toHaveLength(seen);
    expect(world.egressAudit()).toContainEqual(
      expect.objectContaining({ host: BRAVE, decision: 'denied' }),
    );
  });

  it('searches a keyless SearXNG after that too: a GET without a credential is not a sink', async () => {
    const { result } = await search(searxng('searx.example'), { query: 'moon' });
    expect(result.is_error ?? false).toBe(false);
    expect(result.content).toContain('1. SearXNG moon 1\n   https://searx-result-1.example/');
    expect(result.content).toContain('5. SearXNG moon 5');
    expect(result.content).not.toContain('6. SearXNG');
    expect(world.seen()).toContainEqual(
      expect.objectContaining({ host: 'searx.example', url: '/search?q=moon&format=json' }),
    );
  });

  it('refuses a provider no rule allows, naming the rule, and nothing reaches it', async () => {
    const seen = world.seen().length;
    const { result } = await search(searxng('blocked.example'), { query: 'x' });
    expect(result.is_error).toBe(true);
    expect(result.content).toContain('web_search https://blocked.example/search');
    expect(result.content).toContain('refused by the egress proxy');
    expect(result.content).toContain('allow http domain="blocked.example" method=GET');
    expect(world.seen()).toHaveLength(seen);
    expect(world.egressAudit()).toContainEqual(
      expect.objectContaining({ host: 'blocked.example', decision: 'denied' }),
    );
  });

  it('is not offered at all while NANOCELL_WEB_SEARCH is unset', async () => {
    const before = world.model.requests.length;
    world.model.enqueue(reply().text('hi'));
    const r = await world.ask('hello');
    expect(r.code, r.stderr).toBe(0);
    const names = (world.model.requests[before]!.body!.tools ?? []).map((t) => t.name);
    expect(names).toContain('web_fetch');
    expect(names).not.toContain('web_search');
  });
});
