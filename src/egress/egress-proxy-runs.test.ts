import fs from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EgressGrant } from './egress-grant.js';
import { EGRESS_PASS_HEADER } from './egress-run.js';
import { egressGuard } from '../guard/egress-guard.js';
import { taint, TRUSTED } from '../guard/provenance.js';
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

const resolve = fakeResolver({
  'api.example.test': ['127.0.0.1'],
  'www.example.test': ['127.0.0.1'],
});

let dir: string;
let upstream: Upstream;
let echo: { port: number; close(): Promise<void> };
const proxies: ProxyUnderTest[] = [];

beforeAll(async () => {
  dir = tempDir('nanocell-egress-runs-');
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

async function proxyWith(grant: Partial<EgressGrant>): Promise<ProxyUnderTest> {
  const p = await startProxy(dir, grant, { resolve, allowAddresses: ['127.0.0.1'] });
  proxies.push(p);
  return p;
}

const open = (): EgressGrant['policy'] =>
  egressPolicy(`allow http domain="*.example.test" port=${upstream.port},${echo.port}`);
const api = (host = 'api.example.test'): string => `http://${host}:${upstream.port}/x`;
const status = async (p: ProxyUnderTest, url = api()): Promise<number> =>
  (await sendRaw({ path: p.socketPath }, httpRequest('GET', url))).status;

/** A CONNECT request written raw; the answer is read until the proxy closes. */
const connectStatus = async (p: ProxyUnderTest, authority: string): Promise<number> =>
  parseResponse(
    (
      await sendRaw(
        { path: p.socketPath },
        `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`,
      )
    ).head,
  ).status;

describe('EgressProxy runs: budgets and identity per run', () => {
  it('stops a burst of 1000 requests at the run budget while it happens, not after', async () => {
    const p = await proxyWith({
      policy: open(),
      budget: { maxRequests: 25, maxBytes: 10_000_000 },
    });
    const codes: number[] = [];
    for (let batch = 0; batch < 20; batch++) {
      codes.push(...(await Promise.all(Array.from({ length: 50 }, () => status(p)))));
    }
    expect(codes.filter((c) => c === 200)).toHaveLength(25);
    expect(codes.filter((c) => c === 429)).toHaveLength(975);
    expect(upstream.seen).toHaveLength(25);
    expect(p.run.usage()).toMatchObject({ requests: 25, overBudget: 975, refused: 975 });
  });

  it("applies the run's own tighter limit within the grant's", async () => {
    const p = await proxyWith({ policy: open() });
    p.run.end();
    const run = p.proxy.beginRun({ runId: 'run-2', taskId: '9' }, { maxRequests: 2 });
    expect([await status(p), await status(p), await status(p)]).toEqual([200, 200, 429]);
    expect(run.usage()).toMatchObject({ requests: 2, overBudget: 1 });
  });

  it("never lets one run's requests use up a later run's budget", async () => {
    const p = await proxyWith({ policy: open(), budget: { maxRequests: 2, maxBytes: 10_000_000 } });
    expect([await status(p), await status(p), await status(p)]).toEqual([200, 200, 429]);
    p.run.end();
    const second = p.proxy.beginRun({ runId: 'run-2' });
    expect([await status(p), await status(p)]).toEqual([200, 200]);
    expect(second.usage()).toMatchObject({ requests: 2, overBudget: 0 });
    expect(p.run.usage()).toMatchObject({ requests: 2, overBudget: 1 });
  });

  it('holds what an untrusted run could send out, and applies when=untrusted rules', async () => {
    const p = await proxyWith({
      policy: egressPolicy(
        `allow http domain="*.example.test" port=${upstream.port},${echo.port}\n` +
          'deny http domain="www.example.test" when=untrusted',
      ),
    });
    p.run.end();
    let label = TRUSTED;
    p.proxy.beginRun({
      runId: 'run-guarded',
      untrusted: () => label.untrusted,
      guard: egressGuard(() => label, { admin: false, extraMounts: false }),
    });
    const post = () => sendRaw({ path: p.socketPath }, httpRequest('POST', api(), {}, 'secrets'));
    expect((await post()).status).toBe(200);
    expect(await status(p, api('www.example.test'))).toBe(200);

    label = taint(TRUSTED, { kind: 'email', detail: 'bob@example.com' });
    const held = await post();
    expect(held.status).toBe(403);
    expect(held.body).toContain('held by the guard: this run read an email from bob@example.com');
    expect(await status(p)).toBe(200); // reading is still allowed
    expect(await status(p, api('www.example.test'))).toBe(403); // the owner's when= rule
    expect(upstream.seen.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it("lets the host's request with a pass past the guard, once, for that request only", async () => {
    const p = await proxyWith({ policy: open() });
    p.run.end();
    const label = taint(TRUSTED, { kind: 'web', detail: 'evil.example' });
    const run = p.proxy.beginRun({
      runId: 'run-pass',
      untrusted: () => label.untrusted,
      guard: egressGuard(() => label, { admin: false, extraMounts: true }),
    });
    const scope = {
      method: 'POST',
      host: 'api.example.test',
      path: '/x',
      purpose: 'MCP server notes',
    };
    const post = (headers: Record<string, string>, url = api()) =>
      sendRaw({ path: p.socketPath }, httpRequest('POST', url, headers, 'the call'));

    expect((await post({})).status).toBe(403); // the cell's: held
    const token = run.pass(scope);
    const passed = await post({ [EGRESS_PASS_HEADER]: token });
    expect(passed.status).toBe(200);
    const seen = upstream.seen.filter((r) => r.method === 'POST');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers[EGRESS_PASS_HEADER]).toBeUndefined();
    expect(p.decisions).toContainEqual(
      expect.objectContaining({
        allowed: true,
        stage: 'decided',
        method: 'POST',
        pass: 'MCP server notes',
        reason: expect.stringContaining("the host's request for MCP server notes") as unknown,
      }),
    );

    // Used up; a guessed one and one issued for another path are refused, not just held.
    const again = await post({ [EGRESS_PASS_HEADER]: token });
    expect(again.status).toBe(403);
    expect(again.body).toContain('x-nanocell-pass header that this run was not given');
    expect((await post({ [EGRESS_PASS_HEADER]: 'guessed' })).status).toBe(403);
    const other = run.pass({ ...scope, path: '/elsewhere' });
    expect((await post({ [EGRESS_PASS_HEADER]: other })).status).toBe(403);
    expect(upstream.seen.filter((r) => r.method === 'POST')).toHaveLength(1);

    // A tunnel the guard holds (the run can reach private data) passes with a CONNECT pass.
    const authority = `api.example.test:${echo.port}`;
    expect(await connectStatus(p, authority)).toBe(403);
    const tunnel = run.pass({
      method: 'CONNECT',
      host: 'api.example.test',
      purpose: 'MCP server notes',
    });
    const opened = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(p.socketPath);
      let head = '';
      socket.on('error', reject);
      socket.on('data', (c: Buffer) => {
        head += c.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(head);
        }
      });
      socket.write(
        `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${EGRESS_PASS_HEADER}: ${tunnel}\r\n\r\n`,
      );
    });
    expect(opened).toMatch(/^HTTP\/1\.1 200 /);

    // Once the run is over, a pass it was given opens nothing.
    const late = run.pass(scope);
    run.end();
    expect((await post({ [EGRESS_PASS_HEADER]: late })).status).toBe(403);
  });

  it('lets nothing out between runs: what a run leaves behind cannot spend the next', async () => {
    const p = await proxyWith({ policy: open() });
    p.run.end();
    const res = await sendRaw({ path: p.socketPath }, httpRequest('GET', api()));
    expect(res.status).toBe(403);
    expect(res.body).toContain('no run of group main is going on');
    expect(await connectStatus(p, `api.example.test:${echo.port}`)).toBe(403);
    expect(upstream.seen).toHaveLength(0);
    expect(p.decisions.every((d) => d.runId === null && !d.allowed)).toBe(true);
  });

  it('cuts a tunnel a run left open when the run ends', async () => {
    const p = await proxyWith({ policy: open() });
    const socket = net.connect({ path: p.socketPath });
    const established = new Promise<void>((resolve) =>
      socket.once('data', (c: Buffer) => {
        expect(c.toString()).toMatch(/^HTTP\/1\.1 200/);
        resolve();
      }),
    );
    socket.write(`CONNECT api.example.test:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await established;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    p.run.end();
    await closed;
    expect(p.decisions.at(-1)).toMatchObject({
      runId: 'run-1',
      stage: 'finished',
      allowed: false,
      reason: 'the run ended; its tunnel was cut',
    });
  });

  it('records the run and task that made each request', async () => {
    const p = await proxyWith({ policy: open() });
    await status(p);
    p.run.end();
    p.proxy.beginRun({ runId: 'run-2' });
    await status(p);
    const identities = p.decisions.map((d) => [d.runId, d.taskId, d.stage]);
    expect(identities).toEqual([
      ['run-1', '7', 'decided'],
      ['run-1', '7', 'finished'],
      ['run-2', null, 'decided'],
      ['run-2', null, 'finished'],
    ]);
  });
});

describe('EgressProxy host names: one spelling for rules and requests', () => {
  const guarded = (): EgressGrant['policy'] =>
    egressPolicy(
      `allow http domain="*.example.test" port=${upstream.port},${echo.port}\ndeny http domain="API.example.test."`,
    );

  it.each([
    ['upper case', 'API.EXAMPLE.TEST'],
    ['mixed case', 'Api.Example.Test'],
    ['a trailing dot', 'api.example.test.'],
    ['upper case and a trailing dot', 'API.example.TEST.'],
  ])('enforces a deny under an allowed wildcard on a URL host in %s', async (_what, host) => {
    const p = await proxyWith({ policy: guarded() });
    const res = await sendRaw({ path: p.socketPath }, httpRequest('GET', api(host)));
    expect(res.status).toBe(403);
    expect(res.body).toContain('denied by policy rule groups/test.policy:2');
    expect(upstream.seen).toHaveLength(0);
    expect(p.decisions[0]).toMatchObject({ host: 'api.example.test', allowed: false });
  });

  it.each([['API.EXAMPLE.TEST'], ['api.example.test.'], ['Api.Example.Test.']])(
    'enforces the same deny on a CONNECT to %s',
    async (host) => {
      const p = await proxyWith({ policy: guarded() });
      expect(await connectStatus(p, `${host}:${echo.port}`)).toBe(403);
      expect(p.decisions[0]).toMatchObject({ host: 'api.example.test', allowed: false });
    },
  );

  it("sends the proxy's Host header, never the cell's: a forged one cannot pick another site", async () => {
    const p = await proxyWith({ policy: guarded() });
    const forged = `GET ${api('www.example.test')} HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n`;
    expect((await sendRaw({ path: p.socketPath }, forged)).status).toBe(200);
    expect(upstream.seen[0]?.headers.host).toBe(`www.example.test:${upstream.port}`);
  });

  it.each([['api.example.test..'], ['.api.example.test'], ['www..example.test']])(
    'refuses %s, one more spelling of a name, as a malformed host',
    async (host) => {
      const p = await proxyWith({ policy: guarded() });
      const res = await sendRaw({ path: p.socketPath }, httpRequest('GET', api(host)));
      expect([400, 403]).toContain(res.status);
      expect(await connectStatus(p, `${host}:${echo.port}`)).toBe(400);
      expect(upstream.seen).toHaveLength(0);
    },
  );

  it('still allows the other names under the wildcard', async () => {
    const p = await proxyWith({ policy: guarded() });
    expect(await status(p, api('WWW.example.test.'))).toBe(200);
    expect(upstream.seen[0]?.headers.host).toBe(`www.example.test:${upstream.port}`);
  });
});
