import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { createRequire } from 'node:module';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { egressGuard } from '../guard/egress-guard.js';
import { taint, TRUSTED } from '../guard/provenance.js';
import {
  egressPolicy,
  fakeResolver,
  makeCertificate,
  opensslAvailable,
  startProxy,
  tempDir,
  type ProxyUnderTest,
} from '../egress/egress-test-kit.js';
import type { McpRemoteServer } from './mcp-config.js';
import { openMcpTools, type McpTools } from './mcp-tools.js';

/**
 * The host's client of a remote MCP server, in process: the SDK's Streamable HTTP client over
 * a real egress proxy to the SDK's own server (test/support/fake-remote-mcp.cjs) on 127.0.0.1.
 * The run here has read untrusted content: what passes is what the policy gate (with the owner's
 * approval) let through, which the guard at the proxy must not hold a second time.
 */
const fakeRemote = createRequire(import.meta.url)('../../test/support/fake-remote-mcp.cjs') as (
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => boolean;

let dir: string;
let upstream: https.Server;
let ca: string;
let port: number;
const seen: Array<{ method: string; url: string }> = [];
const proxies: ProxyUnderTest[] = [];
const opened: McpTools[] = [];

beforeAll(async () => {
  if (!opensslAvailable()) return;
  dir = tempDir('nanocell-remote-mcp-');
  const tls = makeCertificate(dir, 'notes.example.test')!;
  ca = tls.cert;
  // A rule with a path makes the proxy read the request and go on over HTTPS itself.
  upstream = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    if (!fakeRemote(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  port = (upstream.address() as net.AddressInfo).port;
});
afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
  for (const p of proxies.splice(0)) await p.proxy.close();
  seen.length = 0;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const server = (over: Partial<McpRemoteServer> = {}): McpRemoteServer => ({
  name: 'notes',
  url: `https://notes.example.test:${port}/mcp`,
  groups: ['main'],
  callTimeoutMs: 1000,
  ...over,
});

/** A proxy for group main whose current run has read a web page, and the tools opened on it. */
async function open(policy: string, servers = [server()]) {
  const p = await startProxy(
    dir,
    { policy: egressPolicy(policy) },
    {
      resolve: fakeResolver({ 'notes.example.test': ['127.0.0.1'] }),
      allowAddresses: ['127.0.0.1'],
      upstreamCa: ca,
    },
  );
  proxies.push(p);
  p.run.end();
  const label = taint(TRUSTED, { kind: 'web', detail: 'evil.example' });
  const run = p.proxy.beginRun({
    runId: 'run-remote',
    untrusted: () => true,
    guard: egressGuard(() => label, { admin: false, extraMounts: false }),
  });
  const reports: string[] = [];
  const tainted: string[] = [];
  const tools = await openMcpTools({
    servers,
    log: pino({ level: 'silent' }),
    report: (_server, text) => reports.push(text),
    taint: (s) => tainted.push(s),
    remote: {
      groupName: 'main',
      route: { socketPath: p.socketPath, policy: egressPolicy(policy) },
      pass: (scope) => run.pass(scope),
    },
    connectTimeoutMs: 5000,
  });
  opened.push(tools);
  return { p, tools, reports, tainted };
}

const RULE = `allow http domain="notes.example.test" port=${'PORT'} path="/mcp"`;
const rule = () => RULE.replace('PORT', String(port));

describe.skipIf(!opensslAvailable() && !process.env.CI)(
  'a remote MCP server through the egress proxy',
  () => {
    it('offers its tools as sinks and calls one a guarded run was allowed, with the pass', async () => {
      const { p, tools, tainted, reports } = await open(rule());
      expect(
        tools.definitions.map((d) => d.name),
        JSON.stringify(reports),
      ).toEqual(['notes__lookup']);
      expect(tools.sendsOut('notes__lookup')).toBe(true);
      const out = await tools.execute('notes__lookup', { word: 'tide' });
      expect(out).toEqual({ output: 'notes on tide; authorization seen: none', isError: false });
      expect(tainted).toEqual(['notes']);
      // Every request was the host's and carried a pass; none was held.
      const decided = p.decisions.filter((d) => d.stage === 'decided');
      expect(decided.length).toBeGreaterThanOrEqual(4);
      expect(decided.every((d) => d.allowed && d.pass === 'MCP server notes')).toBe(true);
      // The optional stream of server-started messages is never opened.
      expect(seen.some((s) => s.method === 'GET')).toBe(false);
      await tools.close();
      expect(seen.at(-1)).toEqual({ method: 'DELETE', url: '/mcp' });
    });

    it('says why a call fails when the server hangs, and stops one that floods', async () => {
      const { tools } = await open(rule());
      const hung = await tools.execute('notes__lookup', { word: 'hang' });
      expect(hung?.isError).toBe(true);
      expect(hung?.output).toMatch(/MCP server notes failed: .*timed out/i);
      const ok = await tools.execute('notes__lookup', { word: 'moon' });
      expect(ok?.output).toContain('notes on moon');
      const flood = await tools.execute('notes__lookup', { word: 'flood' });
      expect(flood?.isError).toBe(true);
      expect(flood?.output).toContain('sent more than 4194304 bytes in one answer');
      expect(flood?.output).toContain('stopped using MCP server notes for this run');
      const after = await tools.execute('notes__lookup', { word: 'moon' });
      expect(after?.isError).toBe(true);
      expect(after?.output).toContain('stopped using MCP server notes');
    });

    it('reports a server no rule allows, with the rule that would', async () => {
      const { tools, reports } = await open(
        `allow http domain="elsewhere.example.test" port=${port}`,
      );
      expect(tools.definitions).toEqual([]);
      expect(reports).toHaveLength(1);
      expect(reports[0]).toContain('MCP server notes (https://notes.example.test');
      expect(reports[0]).toContain('could not be reached');
      expect(reports[0]).toContain('allow http domain="notes.example.test" path="/mcp"');
      expect(seen).toHaveLength(0);
    });

    it('reports a server of a group with no egress at all, and sends nothing', async () => {
      const reports: string[] = [];
      const tools = await openMcpTools({
        servers: [server()],
        log: pino({ level: 'silent' }),
        report: (_s, text) => reports.push(text),
        taint: () => undefined,
        remote: { groupName: 'main', route: undefined, pass: () => 'unused' },
      });
      opened.push(tools);
      expect(tools.definitions).toEqual([]);
      expect(reports[0]).toContain('the group has no egress rule');
      expect(reports[0]).toContain('allow http domain="notes.example.test" path="/mcp"');
      expect(seen).toHaveLength(0);
    });
  },
);
