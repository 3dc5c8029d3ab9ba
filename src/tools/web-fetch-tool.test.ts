import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolOutcome } from '../agent/agent-loop.js';
import {
  egressPolicy,
  fakeResolver,
  makeCertificate,
  opensslAvailable,
  startHttpsUpstream,
  startProxy,
  tempDir,
  type ProxyUnderTest,
  type TlsMaterial,
  type Upstream,
} from '../egress/egress-test-kit.js';
import type { PolicyLayers } from '../policy/rules.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import { webFetchTool } from './web-fetch-tool.js';

// web_fetch through the real egress proxy (on a temp unix socket) to servers on 127.0.0.1:
// the proxy decides, counts and audits each request as it does the cell's.
const LATIN1_PAGE = Buffer.from(
  '<!doctype html><html><head><title>Caf\xe9 &amp; more</title><style>p{color:red}</style>' +
    '<script>alert("x")</script></head><body><h1>Men\xfc</h1><p>Cr\xe8me br\xfbl\xe9e &euro;5</p>' +
    '<ul><li>one</li><li>two</li></ul><!-- hidden --></body></html>',
  'latin1',
);

const resolve = fakeResolver({
  'site.example.test': ['127.0.0.1'],
  'other.example.test': ['127.0.0.1'],
});

let dir: string;
let server: http.Server;
let port: number;
let tlsMaterial: TlsMaterial | null = null;
let httpsUpstream: Upstream | undefined;
const proxies: ProxyUnderTest[] = [];

beforeAll(async () => {
  dir = tempDir('nanocell-web-fetch-');
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/menu') {
      res.setHeader('content-type', 'text/html; charset=ISO-8859-1');
      res.end(LATIN1_PAGE);
    } else if (url === '/moved') {
      res.writeHead(302, { location: '/menu' });
      res.end();
    } else if (url === '/gzip') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync('packed text'));
    } else if (url === '/binary') {
      res.setHeader('content-type', 'image/png');
      res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
    } else if (url === '/long') {
      res.setHeader('content-type', 'text/plain');
      res.end('word '.repeat(2000));
    } else if (url === '/huge') {
      res.setHeader('content-type', 'text/plain');
      res.end('y'.repeat(300_000));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such page');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
  if (opensslAvailable()) {
    tlsMaterial = makeCertificate(dir, 'site.example.test');
    if (tlsMaterial) httpsUpstream = await startHttpsUpstream(tlsMaterial);
  }
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await httpsUpstream?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('web_fetch through the egress proxy', () => {
  let store: Store;
  let group: Group;
  beforeEach(() => {
    store = Store.open(':memory:');
    group = store.groups.create({ name: 'main', isAdmin: true, requiresTrigger: false });
  });
  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.proxy.close();
    store.close();
  });

  const policies = new Map<ProxyUnderTest, PolicyLayers>();
  async function proxy(policy: string): Promise<ProxyUnderTest> {
    const layers = egressPolicy(policy);
    const p = await startProxy(
      dir,
      { policy: layers },
      {
        resolve,
        allowAddresses: ['127.0.0.1'],
        ...(tlsMaterial ? { upstreamCa: tlsMaterial.cert } : {}),
      },
    );
    proxies.push(p);
    policies.set(p, layers);
    return p;
  }

  async function fetchWith(
    p: ProxyUnderTest | undefined,
    input: Record<string, unknown>,
    maxBytes?: number,
  ): Promise<ToolOutcome> {
    const tool = webFetchTool({
      store,
      egressFor: () => (p ? { socketPath: p.socketPath, policy: policies.get(p)! } : undefined),
      ...(maxBytes ? { maxBytes } : {}),
      timeoutMs: 5000,
    });
    return tool.run({ group, channel: 'web', chatId: 'main-chat' }, input);
  }

  const untrusted = () => store.provenance.get(group.id).untrusted;

  // A rule with a method or path makes the proxy go out over HTTPS (a brokered API): the
  // plain-HTTP server here is reached under a domain rule.
  it('returns an allowed page as readable text, decoded from its charset, and labels the session', async () => {
    const p = await proxy(`allow http domain="site.example.test" port=${port}`);
    const r = await fetchWith(p, { url: `http://site.example.test:${port}/menu` });

    expect(r.isError).toBe(false);
    expect(r.output).toContain('Title: Café & more');
    expect(r.output).toContain('read as iso-8859-1');
    expect(r.output).toContain('Menü\n\nCrème brûlée €5');
    expect(r.output).toContain('- one\n- two');
    expect(r.output).not.toMatch(/alert|color:red|hidden|<p>/);
    expect(p.decisions.filter((d) => d.stage === 'decided')).toMatchObject([
      { allowed: true, kind: 'http', host: 'site.example.test', method: 'GET', path: '/menu' },
    ]);
    expect(p.run.usage().requests).toBe(1);
    expect(untrusted()).toBe(true);
  });

  it('refuses a site no rule allows, naming the rule that would, and reads nothing', async () => {
    const p = await proxy(`allow http domain="site.example.test" port=${port} method=GET`);
    const r = await fetchWith(p, { url: `http://other.example.test:${port}/menu` });

    expect(r.isError).toBe(true);
    expect(r.output).toContain('refused by the egress proxy');
    expect(r.output).toContain('allow http domain="other.example.test" method=GET');
    expect(p.decisions).toMatchObject([{ allowed: false, host: 'other.example.test' }]);
    expect(untrusted()).toBe(false);
  });

  it('refuses every URL for a group whose policy grants no egress, naming the rule', async () => {
    const r = await fetchWith(undefined, { url: 'https://docs.example.com/guide' });
    expect(r.isError).toBe(true);
    expect(r.output).toContain('group main has no egress rule');
    expect(r.output).toContain('`allow http domain="docs.example.com" method=GET`');
    expect(r.output).toContain('policy/groups/main.policy');
    expect(untrusted()).toBe(false);
  });

  it('follows a redirect, each hop decided by the proxy', async () => {
    const p = await proxy(`allow http domain="site.example.test" port=${port}`);
    const r = await fetchWith(p, { url: `http://site.example.test:${port}/moved` });
    expect(r.output).toContain(`URL: http://site.example.test:${port}/menu`);
    expect(p.decisions.filter((d) => d.stage === 'decided').map((d) => d.path)).toEqual([
      '/moved',
      '/menu',
    ]);
  });

  it('refuses file:// and URLs with a password before anything leaves', async () => {
    const p = await proxy(`allow http domain="site.example.test" port=${port}`);
    expect((await fetchWith(p, { url: 'file:///etc/passwd' })).output).toContain(
      'file: URLs are not fetched',
    );
    expect(
      (await fetchWith(p, { url: `http://u:pw@site.example.test:${port}/menu` })).output,
    ).toContain('user:password');
    expect(p.decisions).toEqual([]);
  });

  it('decodes gzip, refuses binary, and caps the text and the bytes it reads', async () => {
    const p = await proxy(`allow http domain="site.example.test" port=${port}`);
    const base = `http://site.example.test:${port}`;
    expect((await fetchWith(p, { url: `${base}/gzip` })).output).toMatch(/\n\npacked text$/);
    const binary = await fetchWith(p, { url: `${base}/binary` });
    expect(binary.isError).toBe(true);
    expect(binary.output).toContain('image/png, not text or HTML');
    const long = await fetchWith(p, { url: `${base}/long`, max_chars: 500 });
    expect(long.output).toContain('[text truncated: 9500 more characters');
    const huge = await fetchWith(p, { url: `${base}/huge` }, 100_000);
    expect(huge.output).toContain('[the page was larger than web_fetch reads');
    expect(huge.output).toContain('[text truncated: 80000 more characters');
    const missing = await fetchWith(p, { url: `${base}/nope` });
    expect(missing).toMatchObject({ isError: true });
    expect(missing.output).toContain('Status: 404');
  });

  it.skipIf(!opensslAvailable())(
    'https through a CONNECT tunnel verifies the certificate on this host, and refuses one it does not trust',
    async () => {
      const p = await proxy(`allow http domain="site.example.test" port=${httpsUpstream!.port}`);
      const r = await fetchWith(p, { url: `https://site.example.test:${httpsUpstream!.port}/x` });
      expect(r.isError).toBe(true);
      expect(r.output).toContain('certificate of site.example.test could not be verified');
      expect(p.decisions.find((d) => d.stage === 'decided')).toMatchObject({
        allowed: true,
        kind: 'connect',
      });
      expect(httpsUpstream!.seen).toEqual([]);
    },
  );

  it.skipIf(!opensslAvailable())(
    'https under a method rule goes as a request the proxy reads and sends on over verified TLS',
    async () => {
      const up = httpsUpstream!;
      up.seen.length = 0;
      const p = await proxy(`allow http domain="site.example.test" port=${up.port} method=GET`);
      const r = await fetchWith(p, { url: `https://site.example.test:${up.port}/page` });
      expect(r.output).toContain('hello from upstream');
      expect(r.isError).toBe(false);
      expect(p.decisions.find((d) => d.stage === 'decided')).toMatchObject({
        allowed: true,
        kind: 'http',
        method: 'GET',
        path: '/page',
      });
      expect(up.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /page']);
    },
  );
});
