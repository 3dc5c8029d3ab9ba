import fs from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EgressGrant } from './egress-grant.js';
import {
  egressPolicy,
  fakeResolver,
  httpRequest,
  parseResponse,
  sendRaw,
  startEchoServer,
  startHttpUpstream,
  startProxy,
  tempDir,
  type ProxyUnderTest,
  type Upstream,
} from './egress-test-kit.js';
import type { EgressProxyOptions } from './egress-proxy.js';

/** Every name the tests use; only 127.0.0.1 is ever connected to. */
const resolve = fakeResolver({
  'api.example.test': ['127.0.0.1'],
  'other.example.test': ['127.0.0.1'],
  'loopback.example.test': ['127.0.0.1'],
  'v6loopback.example.test': ['::1'],
  'mapped.example.test': ['::ffff:127.0.0.1'],
  'private.example.test': ['10.1.2.3'],
  'metadata.example.test': ['169.254.169.254'],
});
const local = { resolve, allowAddresses: ['127.0.0.1'] };

let dir: string;
let upstream: Upstream;
let echo: { port: number; close(): Promise<void> };
const proxies: ProxyUnderTest[] = [];

beforeAll(async () => {
  dir = tempDir('nanocell-egress-');
  upstream = await startHttpUpstream();
  echo = await startEchoServer();
});
afterAll(async () => {
  await upstream.close();
  await echo.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.proxy.close();
  upstream.seen.length = 0;
});

async function proxyWith(
  grant: Partial<EgressGrant>,
  options: Partial<EgressProxyOptions> = local,
): Promise<ProxyUnderTest> {
  const p = await startProxy(dir, grant, options);
  proxies.push(p);
  return p;
}

const api = (path = '/v1/items'): string => `http://api.example.test:${upstream.port}${path}`;

/** Opens a CONNECT tunnel; resolves with the proxy's answer head and the open socket. */
function connect(
  socketPath: string,
  authority: string,
): Promise<{ head: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: socketPath });
    let buffered = '';
    const onData = (c: Buffer): void => {
      buffered += c.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      resolve({ head: buffered, socket });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

function roundTrip(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (c: Buffer): void => {
      got += c.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

describe('EgressProxy, plain HTTP', () => {
  // Brokered (a method and a path): what it allows goes out over HTTPS; refusals come first.
  const brokered = (): EgressGrant['policy'] =>
    egressPolicy(
      `allow http domain=api.example.test port=${upstream.port} method=GET path="/v1/**"`,
    );
  const plain = (): EgressGrant['policy'] =>
    egressPolicy(`allow http domain=api.example.test port=${upstream.port}`);

  it('passes an allowed request to the upstream and relays its answer', async () => {
    const p = await proxyWith({ policy: plain() });
    const res = await sendRaw({ path: p.socketPath }, httpRequest('GET', api('/v1/items?x=1')));
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello from upstream');
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]).toMatchObject({ method: 'GET', url: '/v1/items?x=1' });
    expect(upstream.seen[0]?.headers.host).toBe(`api.example.test:${upstream.port}`);
    expect(p.decisions.map((d) => [d.allowed, d.stage])).toEqual([
      [true, 'decided'],
      [true, 'finished'],
    ]);
    expect(p.decisions[1]).toMatchObject({
      runId: 'run-1',
      taskId: '7',
      groupName: 'main',
      kind: 'http',
      host: 'api.example.test',
      port: upstream.port,
      method: 'GET',
      path: '/v1/items',
      address: '127.0.0.1',
      rule: `groups/test.policy:1 allow http domain=api.example.test port=${upstream.port}`,
      reason: 'upstream answered 200',
    });
    expect(p.decisions[1]?.bytesDown).toBeGreaterThan(19);
    expect(p.run.usage()).toMatchObject({ requests: 1, refused: 0 });
  });

  it.each([
    [
      'a method the rule does not list',
      'POST',
      () => api('/v1/items'),
      'POST api.example.test:PORT/v1/items is denied: no allow http rule covers it',
    ],
    [
      'a path the rule does not list',
      'GET',
      () => api('/admin'),
      'GET api.example.test:PORT/admin is denied',
    ],
    [
      'a dot segment that climbs out of the allowed path',
      'GET',
      () => api('/v1/..;/admin'),
      'path /v1/..;/admin',
    ],
    [
      'a domain not in the allowlist',
      'GET',
      () => `http://other.example.test:${upstream.port}/v1/x`,
      'GET other.example.test:PORT/v1/x is denied',
    ],
    [
      'a port the rule does not list',
      'GET',
      () => 'http://api.example.test:1/v1/x',
      'GET api.example.test:1/v1/x is denied',
    ],
  ])(
    'refuses %s with 403 and its reason, and sends nothing upstream',
    async (_what, method, url, pattern) => {
      const words = pattern.replace('PORT', String(upstream.port));
      const p = await proxyWith({ policy: brokered() });
      const res = await sendRaw(
        { path: p.socketPath },
        httpRequest(method, url(), {}, method === 'POST' ? '{}' : ''),
      );
      expect(res.status).toBe(403);
      expect(res.body).toMatch(/^nanocell egress: .+\n$/);
      expect(res.body).toContain(words);
      expect(upstream.seen).toHaveLength(0);
      expect(p.decisions).toHaveLength(1);
      expect(p.decisions[0]).toMatchObject({ allowed: false, stage: 'decided', method });
      expect(p.decisions[0]?.reason).toContain(words);
    },
  );

  it.each([
    ['loopback.example.test', 'loopback (127.0.0.0/8)'],
    ['v6loopback.example.test', 'loopback (::1)'],
    ['mapped.example.test', 'loopback (127.0.0.0/8)'],
    ['private.example.test', 'private (10.0.0.0/8)'],
    ['metadata.example.test', 'cloud metadata'],
  ])('refuses %s, which resolves to a %s address', async (host, words) => {
    const p = await proxyWith(
      { policy: egressPolicy(`allow http domain="*.example.test" port=${upstream.port}`) },
      { resolve },
    );
    const res = await sendRaw(
      { path: p.socketPath },
      httpRequest('GET', `http://${host}:${upstream.port}/`),
    );
    expect(res.status).toBe(403);
    expect(res.body).toContain(`${host} resolves to`);
    expect(res.body).toContain(words);
    expect(upstream.seen).toHaveLength(0);
  });

  it.each([
    ['127.0.0.1', '127.0.0.1', 'loopback'],
    ['2130706433', '127.0.0.1', 'loopback'],
    ['[::1]', '::1', 'loopback'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1', 'loopback'],
    ['169.254.169.254', '169.254.169.254', 'cloud metadata'],
    ['10.0.0.1', '10.0.0.1', 'private'],
  ])(
    'refuses the literal address %s even when a rule allows it',
    async (literal, _address, words) => {
      const p = await proxyWith(
        { policy: egressPolicy(`allow http domain=* port=${upstream.port}`) },
        { resolve },
      );
      const res = await sendRaw(
        { path: p.socketPath },
        httpRequest('GET', `http://${literal}:${upstream.port}/`),
      );
      expect(res.status).toBe(403);
      expect(res.body).toContain(words);
      expect(upstream.seen).toHaveLength(0);
    },
  );

  it('answers 502 when the name does not resolve', async () => {
    const p = await proxyWith({ policy: egressPolicy('allow http domain=nowhere.example.test') });
    const res = await sendRaw(
      { path: p.socketPath },
      httpRequest('GET', 'http://nowhere.example.test/'),
    );
    expect(res.status).toBe(502);
    expect(res.body).toContain('cannot resolve nowhere.example.test: ENOTFOUND');
  });

  it.each([
    [
      'an origin-form request',
      'GET /v1/items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      400,
      'not absolute',
    ],
    [
      'a WebSocket upgrade',
      `GET ${'http://api.example.test/ws'} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
      403,
      'upgrades',
    ],
    ['a malformed request', 'NOT HTTP AT ALL\r\n\r\n', 400, 'malformed'],
  ])('refuses %s with a reason', async (_what, raw, status, words) => {
    const p = await proxyWith({ policy: brokered() });
    const res = await sendRaw({ path: p.socketPath }, raw);
    expect(res.status).toBe(status);
    expect(res.body).toContain(words);
    expect(p.decisions.at(-1)?.allowed).toBe(false);
  });

  it('creates its socket for the owner only', async () => {
    const p = await proxyWith({ policy: brokered() });
    expect(fs.statSync(p.socketPath).mode & 0o777).toBe(0o600);
  });
});

describe('EgressProxy, CONNECT', () => {
  const echoOnly = (): EgressGrant['policy'] =>
    egressPolicy(`allow http domain=api.example.test port=${echo.port}`);

  it('tunnels to an allowed domain and counts the bytes', async () => {
    const p = await proxyWith({ policy: echoOnly() });
    const { head, socket } = await connect(p.socketPath, `api.example.test:${echo.port}`);
    expect(parseResponse(head).status).toBe(200);
    expect(await roundTrip(socket, 'ping through the tunnel')).toBe('ping through the tunnel');
    const closed = new Promise((r) => socket.on('close', r));
    socket.end();
    await closed;
    await expect.poll(() => p.decisions.length).toBe(2);
    expect(p.decisions[1]).toMatchObject({
      allowed: true,
      stage: 'finished',
      kind: 'connect',
      method: 'CONNECT',
      path: null,
      bytesUp: 23,
      bytesDown: 23,
    });
  });

  it.each([
    [
      'a domain not in the allowlist',
      () => `other.example.test:${echo.port}`,
      'is denied: no allow http rule covers it',
    ],
    [
      'a port the rule does not list',
      () => 'api.example.test:22',
      'CONNECT api.example.test:22 is denied',
    ],
    ['a loopback address', () => `loopback.example.test:${echo.port}`, 'loopback'],
    ['a target without a port', () => 'api.example.test', 'must be host:port'],
  ])('answers 403/400 before any tunnel to %s', async (_what, authority, words) => {
    const p = await proxyWith(
      {
        policy: egressPolicy(
          `allow http domain=api.example.test port=${echo.port}\nallow http domain=loopback.example.test port=${echo.port}`,
        ),
      },
      { resolve, allowAddresses: [] },
    );
    const { head } = await connect(p.socketPath, authority());
    const res = parseResponse(head);
    expect([400, 403]).toContain(res.status);
    expect(head).toContain(words);
    expect(p.decisions.at(-1)).toMatchObject({ allowed: false, kind: 'connect' });
  });

  it('refuses CONNECT to a domain with method/path rules and says to use http:// instead', async () => {
    const p = await proxyWith({
      policy: egressPolicy(`allow http domain=api.example.test port=${echo.port} method=GET`),
    });
    const { head } = await connect(p.socketPath, `api.example.test:${echo.port}`);
    expect(parseResponse(head).status).toBe(403);
    expect(head).toContain('request http://api.example.test/... instead');
  });

  it('cuts an open tunnel on close()', async () => {
    const p = await proxyWith({ policy: echoOnly() });
    const { socket } = await connect(p.socketPath, `api.example.test:${echo.port}`);
    const closed = new Promise((r) => socket.on('close', r));
    await p.proxy.close();
    await closed;
  });
});

describe('EgressProxy budgets', () => {
  // A port list: both upstreams of the tests, by one rule.
  const rules = (): EgressGrant['policy'] =>
    egressPolicy(`allow http domain=api.example.test port=${upstream.port},${echo.port}`);

  it('refuses the request after the last one allowed with 429, over HTTP and CONNECT', async () => {
    const p = await proxyWith({ policy: rules(), budget: { maxRequests: 2, maxBytes: 1_000_000 } });
    for (let i = 0; i < 2; i++) {
      expect((await sendRaw({ path: p.socketPath }, httpRequest('GET', api()))).status).toBe(200);
    }
    const third = await sendRaw({ path: p.socketPath }, httpRequest('GET', api()));
    expect(third.status).toBe(429);
    expect(third.body).toContain('may make 2 requests and has made 2');
    const { head } = await connect(p.socketPath, `api.example.test:${echo.port}`);
    expect(parseResponse(head).status).toBe(429);
    expect(upstream.seen).toHaveLength(2);
  });

  it('cuts an answer that goes over the byte budget, and refuses requests after it', async () => {
    const p = await proxyWith({ policy: rules(), budget: { maxRequests: 10, maxBytes: 5_000 } });
    const big = await sendRaw({ path: p.socketPath }, httpRequest('GET', api('/big?n=200000')));
    expect(Buffer.byteLength(big.body)).toBeLessThan(200_000);
    const finished = p.decisions.find((d) => d.stage === 'finished');
    expect(finished).toMatchObject({ allowed: false });
    expect(finished?.reason).toContain('byte budget exceeded');
    const next = await sendRaw({ path: p.socketPath }, httpRequest('GET', api()));
    expect(next.status).toBe(429);
    expect(next.body).toContain('may move 5000 bytes');
  });

  it('cuts a tunnel that goes over the byte budget', async () => {
    const p = await proxyWith({ policy: rules(), budget: { maxRequests: 10, maxBytes: 1_000 } });
    const { socket } = await connect(p.socketPath, `api.example.test:${echo.port}`);
    const closed = new Promise((r) => socket.on('close', r));
    socket.on('data', () => undefined);
    socket.write(Buffer.alloc(5_000, 'y'));
    await closed;
    expect(p.decisions.at(-1)?.reason).toContain('byte budget exceeded');
  });
});
