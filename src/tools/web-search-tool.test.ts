import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolOutcome } from '../agent/agent-loop.js';
import type { EgressCredential } from '../egress/egress-grant.js';
import {
  egressPolicy,
  fakeResolver,
  makeCertificate,
  opensslAvailable,
  startProxy,
  tempDir,
  type ProxyUnderTest,
  type TlsMaterial,
} from '../egress/egress-test-kit.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import { searchProvider, type WebSearchConfig } from './web-search-providers.js';
import { webSearchTool } from './web-search-tool.js';

// web_search through the real egress proxy (on a temp unix socket) to fake providers on
// 127.0.0.1 speaking each provider's wire format: Brave over TLS with its key added by the
// proxy, SearXNG over plain HTTP with no key.
const BRAVE = 'api.search.brave.com';
const SEARX = 'search.example.test';
const SECRET = 'BSA-real-secret-key-0001';
const key: EgressCredential = {
  placeholder: 'nanocell-cred-brave-0123456789abcdef0123456789abcdef',
  secret: SECRET,
  host: BRAVE,
  header: 'x-subscription-token',
};
const resolve = fakeResolver({ [BRAVE]: ['127.0.0.1'], [SEARX]: ['127.0.0.1'] });

interface Seen {
  url: string;
  token: string | undefined;
}
let dir: string;
let tlsMaterial: TlsMaterial | null = null;
let brave: https.Server | undefined;
let bravePort = 0;
let searx: http.Server;
let searxPort = 0;
const seen: Seen[] = [];
const proxies: ProxyUnderTest[] = [];

/** Brave's wire format: `web.results[].{title,url,description}`; 401 without the right key. */
const braveHandler: http.RequestListener = (req, res) => {
  const url = new URL(req.url ?? '/', 'https://x');
  const token = req.headers['x-subscription-token'] as string | undefined;
  seen.push({ url: req.url ?? '', token });
  res.setHeader('content-type', 'application/json');
  if (token !== SECRET) {
    res.statusCode = 401;
    return res.end(
      JSON.stringify({ type: 'ErrorResponse', error: { code: 'SUBSCRIPTION_TOKEN_INVALID' } }),
    );
  }
  const q = url.searchParams.get('q') ?? '';
  const count = Number(url.searchParams.get('count'));
  const results = Array.from({ length: count }, (_, i) => ({
    title: `${q} <strong>result</strong> ${i + 1}`,
    url: `https://r${i + 1}.example/page`,
    // An upstream that echoes the key it got: the proxy must scrub it on the way back.
    description: q === 'echo' ? `your key is ${token}` : `snippet ${i + 1}`,
  }));
  res.end(
    JSON.stringify({ type: 'search', query: { original: q }, web: { type: 'search', results } }),
  );
};

/** SearXNG's wire format: `results[].{title,url,content}`, one page whatever the count. */
const searxHandler: http.RequestListener = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({ url: req.url ?? '', token: undefined });
  const q = url.searchParams.get('q') ?? '';
  if (url.searchParams.get('format') !== 'json') {
    res.statusCode = 403;
    return res.end('Forbidden');
  }
  res.setHeader('content-type', 'application/json');
  if (q === 'broken') return res.end('<html>Internal error</html>');
  if (q === 'huge') return res.end(JSON.stringify({ results: [], pad: 'x'.repeat(200_000) }));
  const results = Array.from({ length: 20 }, (_, i) => ({
    title: `${q} ${i + 1}`,
    url: `https://s${i + 1}.example/`,
    content: `content ${i + 1}`,
    engine: 'duckduckgo',
  }));
  res.end(JSON.stringify({ query: q, number_of_results: 20, results }));
};

const listen = async (server: http.Server): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
};
const close = (server: http.Server | undefined) =>
  new Promise<void>((r) => (server ? server.close(() => r()) : r()));

beforeAll(async () => {
  dir = tempDir('nanocell-web-search-');
  searx = http.createServer(searxHandler);
  searxPort = await listen(searx);
  if (opensslAvailable()) {
    tlsMaterial = makeCertificate(dir, BRAVE);
    if (tlsMaterial) {
      brave = https.createServer({ key: tlsMaterial.key, cert: tlsMaterial.cert }, braveHandler);
      bravePort = await listen(brave);
    }
  }
});
afterAll(async () => {
  await close(searx);
  await close(brave);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('web_search through the egress proxy', () => {
  let store: Store;
  let group: Group;
  beforeEach(() => {
    store = Store.open(':memory:');
    group = store.groups.create({ name: 'main', isAdmin: false, requiresTrigger: false });
    seen.length = 0;
  });
  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.proxy.close();
    store.close();
  });

  async function proxy(policy: string, credentials: EgressCredential[] = [key]) {
    const layers = egressPolicy(policy);
    const p = await startProxy(
      dir,
      { policy: layers, credentials },
      {
        resolve,
        allowAddresses: ['127.0.0.1'],
        ...(tlsMaterial ? { upstreamCa: tlsMaterial.cert } : {}),
      },
    );
    proxies.push(p);
    return {
      p,
      route: {
        socketPath: p.socketPath,
        policy: layers,
        credentials: credentials.map((c) => ({
          host: c.host,
          header: c.header,
          placeholder: c.placeholder,
        })),
      },
    };
  }

  function search(
    config: WebSearchConfig,
    route: Awaited<ReturnType<typeof proxy>>['route'] | undefined,
    input: Record<string, unknown>,
    maxBytes?: number,
  ): Promise<ToolOutcome> {
    const tool = webSearchTool({
      store,
      egressFor: () => route,
      provider: searchProvider(config),
      timeoutMs: 5000,
      ...(maxBytes ? { maxBytes } : {}),
    });
    return Promise.resolve(tool.run({ group, channel: 'web', chatId: 'main-chat' }, input));
  }

  const braveConfig = (): WebSearchConfig => ({
    provider: 'brave',
    baseUrl: `https://${BRAVE}:${bravePort}`,
  });
  const searxConfig: () => WebSearchConfig = () => ({
    provider: 'searxng',
    baseUrl: `http://${SEARX}:${searxPort}`,
  });
  const braveRule = () => `allow http domain="${BRAVE}" port=${bravePort} method=GET`;
  const untrusted = () => store.provenance.get(group.id).untrusted;

  it.skipIf(!opensslAvailable())(
    'searches Brave with the key the proxy adds, lists the results and labels the session',
    async () => {
      const { p, route } = await proxy(braveRule());
      const r = await search(braveConfig(), route, { query: 'cafe hours', count: 3 });

      expect(r.isError).toBe(false);
      expect(r.output).toContain(
        `Web results for "cafe hours" from ${BRAVE}. Untrusted web content`,
      );
      expect(r.output).toContain(
        '1. cafe hours result 1\n   https://r1.example/page\n   snippet 1\n2. cafe hours result 2',
      );
      expect(r.output).toContain('3. cafe hours result 3');
      expect(r.output).not.toContain('4. ');
      expect(seen).toEqual([{ url: '/res/v1/web/search?q=cafe+hours&count=3', token: SECRET }]);
      expect(r.output).not.toContain(SECRET);
      expect(r.output).not.toContain(key.placeholder);
      expect(p.decisions.find((d) => d.stage === 'decided')).toMatchObject({
        allowed: true,
        kind: 'http',
        host: BRAVE,
        credentials: [key.placeholder],
      });
      expect(store.provenance.get(group.id)).toEqual({
        untrusted: true,
        sources: [{ kind: 'web', detail: BRAVE }],
      });
    },
  );

  it.skipIf(!opensslAvailable())(
    'never shows the key even when the provider echoes it back',
    async () => {
      const { route } = await proxy(braveRule());
      const r = await search(braveConfig(), route, { query: 'echo', count: 1 });
      expect(r.isError).toBe(false);
      expect(r.output).toContain('your key is');
      expect(r.output).not.toContain(SECRET);
    },
  );

  it.skipIf(!opensslAvailable())(
    'uses a key the owner bound to no header, and refuses one bound to another header',
    async () => {
      const { header: _header, ...anyHeader } = key;
      const { route } = await proxy(braveRule(), [anyHeader]);
      const r = await search(braveConfig(), route, { query: 'loose', count: 1 });
      expect(r.isError).toBe(false);
      expect(seen.at(-1)?.token).toBe(SECRET);
      const other = await proxy(braveRule(), [{ ...key, header: 'authorization' }]);
      const refused = await search(braveConfig(), other.route, { query: 'x' });
      expect(refused.isError).toBe(true);
      expect(refused.output).toContain('"header": "x-subscription-token"');
    },
  );

  it.skipIf(!opensslAvailable())(
    'says the key was not accepted when Brave answers 401',
    async () => {
      const wrong = { ...key, secret: 'BSA-wrong-key-000000' };
      const { route } = await proxy(braveRule(), [wrong]);
      const r = await search(braveConfig(), route, { query: 'x' });
      expect(r.isError).toBe(true);
      expect(r.output).toContain(`${BRAVE} answered HTTP 401`);
      expect(r.output).toContain('credentials/main.json');
      expect(r.output).not.toContain('BSA-wrong');
    },
  );

  it('refuses, naming the credentials entry, when the group has no key for the provider', async () => {
    const { p, route } = await proxy(braveRule(), []);
    const r = await search(braveConfig(), route, { query: 'x' });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('credentials/main.json');
    expect(r.output).toContain(
      `{"name": "brave", "host": "${BRAVE}", "header": "x-subscription-token", "secret": "YOUR-API-KEY"}`,
    );
    expect(p.decisions).toEqual([]);
    expect(untrusted()).toBe(false);
  });

  it('refuses a provider host no rule allows, naming the rule that would', async () => {
    const { p, route } = await proxy(`allow http domain="${SEARX}" port=${searxPort}`);
    const r = await search(
      { provider: 'searxng', baseUrl: `http://other.example.test:${searxPort}` },
      route,
      { query: 'x' },
    );
    expect(r.isError).toBe(true);
    expect(r.output).toContain('web_search');
    expect(r.output).toContain('refused by the egress proxy');
    expect(r.output).toContain('allow http domain="other.example.test" method=GET');
    expect(p.decisions).toMatchObject([{ allowed: false, host: 'other.example.test' }]);
    expect(seen).toEqual([]);
    expect(untrusted()).toBe(false);
  });

  it('refuses for a group with no egress at all, naming the rule', async () => {
    const r = await search(braveConfig(), undefined, { query: 'x' });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('group main has no egress rule');
    expect(r.output).toContain(`\`allow http domain="${BRAVE}" method=GET\``);
    expect(untrusted()).toBe(false);
  });

  it('searches SearXNG without a key and keeps count results of its page', async () => {
    const { route } = await proxy(`allow http domain="${SEARX}" port=${searxPort}`);
    const r = await search(searxConfig(), route, { query: 'tides' });
    expect(r.isError).toBe(false);
    expect(r.output).toContain('1. tides 1\n   https://s1.example/\n   content 1');
    expect(r.output).toContain('5. tides 5');
    expect(r.output).not.toContain('6. tides 6');
    expect(seen).toEqual([{ url: '/search?q=tides&format=json', token: undefined }]);
    expect(untrusted()).toBe(true);
  });

  it('reports a malformed answer and an oversize one as clear errors', async () => {
    const { route } = await proxy(`allow http domain="${SEARX}" port=${searxPort}`);
    const broken = await search(searxConfig(), route, { query: 'broken' });
    expect(broken.isError).toBe(true);
    expect(broken.output).toContain(`web_search: ${SEARX}: the provider's answer is not JSON`);
    const huge = await search(searxConfig(), route, { query: 'huge' }, 50_000);
    expect(huge.isError).toBe(true);
    expect(huge.output).toContain('answered with more than 50000 bytes');
  });
});
