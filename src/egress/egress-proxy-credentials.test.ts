import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EgressCredential, EgressGrant } from './egress-grant.js';
import {
  egressPolicy,
  fakeResolver,
  httpRequest,
  makeCertificate,
  opensslAvailable,
  sendRaw,
  startHttpUpstream,
  startHttpsUpstream,
  startProxy,
  tempDir,
  type ProxyUnderTest,
  type TlsMaterial,
  type Upstream,
} from './egress-test-kit.js';
import type { EgressProxyOptions } from './egress-proxy.js';

const resolve = fakeResolver({
  'api.example.test': ['127.0.0.1'],
  'other.example.test': ['127.0.0.1'],
});

const token: EgressCredential = {
  placeholder: 'nanocell-cred-api-0123456789abcdef0123456789abcdef',
  secret: 'sk-real-secret-value',
  host: 'api.example.test',
};

let dir: string;
let upstream: Upstream;
let tls: TlsMaterial | null;
let secure: Upstream | null = null;
const proxies: ProxyUnderTest[] = [];

beforeAll(async () => {
  dir = tempDir('nanocell-egress-cred-');
  upstream = await startHttpUpstream();
  tls = makeCertificate(dir, 'api.example.test');
  if (tls) secure = await startHttpsUpstream(tls);
});
afterAll(async () => {
  await upstream.close();
  await secure?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.proxy.close();
  upstream.seen.length = 0;
  if (secure) secure.seen.length = 0;
});

async function proxyWith(
  grant: Partial<EgressGrant>,
  options: Partial<EgressProxyOptions> = {},
): Promise<ProxyUnderTest> {
  const p = await startProxy(dir, grant, { resolve, allowAddresses: ['127.0.0.1'], ...options });
  proxies.push(p);
  return p;
}

/** Plain HTTP to both hosts: no credential may go out this way. */
const both = (): EgressGrant['policy'] =>
  egressPolicy(
    `allow http domain=api.example.test port=${upstream.port}\nallow http domain=other.example.test port=${upstream.port}`,
  );
/** Brokered to the TLS upstream: the proxy reads the request and goes out over HTTPS. */
const brokered = (): EgressGrant['policy'] =>
  egressPolicy(
    `allow http domain=api.example.test port=${secure?.port ?? 0} method=GET,POST path="/**"\nallow http domain=other.example.test port=${upstream.port}`,
  );
const url = (host: string, path: string): string => `http://${host}:${upstream.port}${path}`;
const tlsUrl = (path: string): string => `http://api.example.test:${secure?.port ?? 0}${path}`;
const trusted = (): Partial<EgressProxyOptions> => ({ upstreamCa: tls?.cert ?? '' });

describe('EgressProxy credentials', () => {
  it.skipIf(!opensslAvailable())(
    'swaps the placeholder for the secret on the bound host over TLS; the cell never sees the secret',
    async () => {
      const p = await proxyWith({ policy: brokered(), credentials: [token] }, trusted());
      const res = await sendRaw(
        { path: p.socketPath },
        httpRequest('GET', tlsUrl(`/echo?k=${token.placeholder}`), {
          Authorization: `Bearer ${token.placeholder}`,
          'Accept-Encoding': 'gzip',
        }),
      );
      expect(res.status).toBe(200);
      const seen = secure?.seen[0];
      expect(seen?.headers.authorization).toBe(`Bearer ${token.secret}`);
      expect(seen?.url).toBe(`/echo?k=${token.secret}`);
      expect(seen?.headers['accept-encoding']).toBe('identity');
      // The upstream echoed the secret in a header and in the body: both come back scrubbed.
      expect(res.head + res.body).not.toContain(token.secret);
      expect(res.head).toContain(`x-echo-auth: Bearer ${token.placeholder}`);
      expect(JSON.parse(res.body).headers.authorization).toBe(`Bearer ${token.placeholder}`);
      expect(p.decisions[0]).toMatchObject({ allowed: true, credentials: [token.placeholder] });
      expect(JSON.stringify(p.decisions)).not.toContain(token.secret);
    },
  );

  it('refuses to send a credential in plain HTTP, and says how to get it sent over HTTPS', async () => {
    const p = await proxyWith({ policy: both(), credentials: [token] });
    const res = await sendRaw(
      { path: p.socketPath },
      httpRequest('GET', url('api.example.test', '/echo'), {
        Authorization: `Bearer ${token.placeholder}`,
      }),
    );
    expect(res.status).toBe(403);
    expect(res.body).toContain(
      `credential ${token.placeholder} would be sent to api.example.test in plain HTTP`,
    );
    expect(res.body).toContain('only ever sent over HTTPS with a verified certificate');
    expect(upstream.seen).toHaveLength(0);
    expect(p.decisions).toEqual([expect.objectContaining({ allowed: false, credentials: [] })]);
  });

  it.each([
    [
      'a header',
      () => httpRequest('GET', url('other.example.test', '/'), { 'X-Token': token.placeholder }),
    ],
    ['the URL', () => httpRequest('GET', url('other.example.test', `/?t=${token.placeholder}`))],
    [
      'a small body',
      () => httpRequest('POST', url('other.example.test', '/'), {}, `{"t":"${token.placeholder}"}`),
    ],
  ])(
    'refuses the placeholder in %s to another host, and sends nothing upstream',
    async (_where, request) => {
      const p = await proxyWith({ policy: both(), credentials: [token] });
      const res = await sendRaw({ path: p.socketPath }, request());
      expect(res.status).toBe(403);
      expect(res.body).toContain(
        `carries credential placeholder ${token.placeholder}, which is only ever sent to api.example.test`,
      );
      expect(upstream.seen).toHaveLength(0);
      expect(p.decisions).toEqual([
        expect.objectContaining({ allowed: false, host: 'other.example.test' }),
      ]);
      expect(p.run.usage().refused).toBe(1);
    },
  );

  it('refuses the placeholder in a chunked body to another host before it leaves the proxy', async () => {
    const p = await proxyWith({ policy: both(), credentials: [token] });
    const half = token.placeholder.length / 2;
    const chunk = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    const head = [
      `POST ${url('other.example.test', '/upload')} HTTP/1.1`,
      'Host: other.example.test',
      'Transfer-Encoding: chunked',
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    const res = await sendRaw({ path: p.socketPath }, [
      head,
      chunk(`data before ${token.placeholder.slice(0, half)}`),
      chunk(`${token.placeholder.slice(half)} and after`),
      '0\r\n\r\n',
    ]);
    expect(res.status).toBe(403);
    expect(res.body).toContain('only ever sent to api.example.test');
    const body = upstream.seen[0]?.body ?? '';
    expect(body).not.toContain(token.placeholder.slice(half));
    expect(p.decisions.at(-1)).toMatchObject({ allowed: false, stage: 'finished' });
  });

  it.skipIf(!opensslAvailable())(
    'refuses a header-bound credential put into another header',
    async () => {
      const p = await proxyWith(
        { policy: brokered(), credentials: [{ ...token, header: 'x-api-key' }] },
        trusted(),
      );
      const wrong = await sendRaw(
        { path: p.socketPath },
        httpRequest('GET', tlsUrl('/'), { Authorization: token.placeholder }),
      );
      expect(wrong.status).toBe(403);
      expect(wrong.body).toContain('may only be sent in the x-api-key header');
      const right = await sendRaw(
        { path: p.socketPath },
        httpRequest('GET', tlsUrl('/'), { 'X-Api-Key': token.placeholder }),
      );
      expect(right.status).toBe(200);
      expect(secure?.seen.map((s) => s.headers['x-api-key'])).toEqual([token.secret]);
    },
  );

  it('refuses a grant whose secret could break a header line', async () => {
    await expect(
      proxyWith({ credentials: [{ ...token, secret: 'x\r\nInjected: 1' }] }),
    ).rejects.toThrow(/credentials.0.secret: must be printable ASCII/);
  });
});

describe('EgressProxy upgradeTls', () => {
  const upgraded = (): EgressGrant['policy'] =>
    egressPolicy(
      `allow http domain=api.example.test port=${secure?.port ?? 0} method=GET path="/v1/**"\nallow http domain=api.example.test port=${secure?.port ?? 0} method=GET path=/echo`,
    );
  const target = (path: string): string => `http://api.example.test:${secure?.port ?? 0}${path}`;

  it.skipIf(!opensslAvailable())(
    'sends a plain-HTTP request on over HTTPS, with method/path rules and the secret applied',
    async () => {
      const p = await proxyWith(
        { policy: upgraded(), credentials: [token] },
        { upstreamCa: tls?.cert ?? '' },
      );
      const res = await sendRaw(
        { path: p.socketPath },
        httpRequest('GET', target('/echo'), { Authorization: `Bearer ${token.placeholder}` }),
      );
      expect(res.status).toBe(200);
      expect(secure?.seen[0]?.headers.authorization).toBe(`Bearer ${token.secret}`);
      expect(secure?.seen[0]?.headers.host).toBe(`api.example.test:${secure?.port}`);
      expect(res.body).not.toContain(token.secret);
      const post = await sendRaw(
        { path: p.socketPath },
        httpRequest('POST', target('/echo'), {}, 'x'),
      );
      expect(post.status).toBe(403);
      expect(secure?.seen).toHaveLength(1);
    },
  );

  it.skipIf(!opensslAvailable())(
    'answers 502 when the upstream certificate is not trusted',
    async () => {
      const p = await proxyWith({ policy: upgraded(), credentials: [token] });
      const res = await sendRaw(
        { path: p.socketPath },
        httpRequest('GET', target('/echo'), { Authorization: `Bearer ${token.placeholder}` }),
      );
      expect(res.status).toBe(502);
      expect(res.body).toContain('SELF_SIGNED');
      expect(secure?.seen).toHaveLength(0);
    },
  );
});
