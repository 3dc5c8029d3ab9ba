import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  egressPolicy,
  fakeResolver,
  httpRequest,
  sendRaw,
  startHttpUpstream,
  startProxy,
  tempDir,
  type ProxyUnderTest,
  type Upstream,
} from '../egress/egress-test-kit.js';

/**
 * The forwarder runs here as a plain child process, the way a cell starts it, transpiled
 * from this source into a temp .mjs (as it is mounted into cells).
 */
let dir: string;
let script: string;
let upstream: Upstream;
let proxy: ProxyUnderTest;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  dir = tempDir('nanocell-forwarder-');
  const source = fs.readFileSync(new URL('./egress-forwarder.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  script = path.join(dir, 'egress-forwarder.mjs');
  fs.writeFileSync(script, outputText);
  upstream = await startHttpUpstream();
  proxy = await startProxy(
    dir,
    {
      policy: egressPolicy(
        `allow http domain=api.example.test port=${upstream.port}\ndeny http domain=api.example.test method=DELETE`,
      ),
    },
    { resolve: fakeResolver({ 'api.example.test': ['127.0.0.1'] }), allowAddresses: ['127.0.0.1'] },
  );
});
afterAll(async () => {
  await proxy.proxy.close();
  await upstream.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  upstream.seen.length = 0;
});

/** Starts the forwarder on a free port and waits for its ready line. */
async function startForwarder(socketPath: string): Promise<number> {
  const child = spawn(process.execPath, [script, socketPath, '0'], { env: {}, stdio: 'pipe' });
  children.push(child);
  const lines = readline.createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`forwarder exited with ${code} before ready`)));
    lines.once('line', resolve);
  });
  const ready = JSON.parse(first) as { ready: boolean; port: number };
  expect(ready.ready).toBe(true);
  return ready.port;
}

/** An absolute-form request to the forwarder, as an HTTP client with a proxy set sends it. */
function viaProxy(port: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: url, agent: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const curl = spawnSync('curl', ['--version']).status === 0;

describe('egress forwarder', () => {
  it('carries a request from 127.0.0.1 in the cell to the proxy and its answer back', async () => {
    const port = await startForwarder(proxy.socketPath);
    const res = await viaProxy(port, `http://api.example.test:${upstream.port}/v1/x`);
    expect(res).toEqual({ status: 200, body: 'hello from upstream' });
    expect(upstream.seen.map((s) => s.url)).toEqual(['/v1/x']);
  });

  it('passes the proxy refusal through unchanged', async () => {
    const port = await startForwarder(proxy.socketPath);
    const res = await sendRaw(
      { host: '127.0.0.1', port },
      httpRequest('DELETE', `http://api.example.test:${upstream.port}/v1/x`),
    );
    expect(res.status).toBe(403);
    expect(res.body).toContain('denied by policy rule groups/test.policy:2');
  });

  it.skipIf(!curl)('serves curl with http_proxy set, as programs in a cell use it', async () => {
    const port = await startForwarder(proxy.socketPath);
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('curl', ['-sS', `http://api.example.test:${upstream.port}/v1/curl`], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', http_proxy: `http://127.0.0.1:${port}` },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(result).toEqual({ code: 0, out: 'hello from upstream' });
  });

  it('closes the connection and stays up when the proxy socket is missing', async () => {
    const port = await startForwarder(path.join(dir, 'missing.sock'));
    const res = await sendRaw({ host: '127.0.0.1', port }, httpRequest('GET', 'http://a.test/'));
    expect(res.status).toBe(0);
    const again = await sendRaw({ host: '127.0.0.1', port }, httpRequest('GET', 'http://a.test/'));
    expect(again.status).toBe(0);
    expect(children[0]?.exitCode).toBeNull();
  });

  it('exits 2 with its usage when the arguments are wrong', () => {
    const r = spawnSync(process.execPath, [script, '/tmp/x.sock'], { encoding: 'utf8', env: {} });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: node egress-forwarder.mjs <proxy-socket> <port>');
  });
});
