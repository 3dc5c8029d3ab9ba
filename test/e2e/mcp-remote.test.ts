import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../support/fake-model-server.js';
import { canRunNetns, startEgressNetns, type EgressNetns } from '../support/egress-netns.js';
import { REPO_ROOT } from '../support/run-cli.js';

/**
 * A remote (Streamable HTTP) MCP server end to end (see egress-netns.ts): the real host
 * process speaks to the SDK's own server (fake-remote-mcp.cjs) over HTTPS through the group's
 * egress proxy, which decides each request by the group's rules, adds the owner's credential
 * and audits it. The tests run in order: one data dir, one session, which the first MCP result
 * labels untrusted (src/guard).
 */
type Block = { type: string; content?: string; is_error?: boolean };

const HOST = 'mcp.example';
const SECRET = 'Bearer remote-mcp-secret-4711';
const CURL_POST = `curl -s -o /dev/null -w "post=%{http_code}" --max-time 10 -X POST -H 'content-type: application/json' -d '{}' http://${HOST}/mcp`;

describe.skipIf(!canRunNetns && !process.env.CI)(
  'a remote MCP server through the real proxy',
  () => {
    let world: EgressNetns;
    let methodLog: string;

    beforeAll(async () => {
      methodLog = path.join(fs.mkdtempSync('/tmp/nanocell-remote-mcp-'), 'methods.log');
      // The upstream process inherits the environment: the fake logs the methods it receives.
      process.env.NANOCELL_TEST_MCP_LOG = methodLog;
      world = await startEgressNetns([HOST, 'other.example'], {
        upstreamModule: path.join(REPO_ROOT, 'test', 'support', 'fake-remote-mcp.cjs'),
      });
      delete process.env.NANOCELL_TEST_MCP_LOG;
      fs.writeFileSync(
        path.join(world.configDir, 'mcp.json'),
        JSON.stringify({
          servers: {
            notes: { url: `https://${HOST}/mcp`, groups: ['main'] },
            elsewhere: { url: 'https://other.example/mcp', groups: ['main'] },
          },
        }),
      );
      // The rule README "MCP servers" gives: with a path, the proxy reads the requests and so can
      // add the credential. other.example has no rule.
      fs.writeFileSync(
        path.join(world.configDir, 'policy', 'groups', 'main.policy'),
        `allow http domain="${HOST}" path="/mcp"\n`,
      );
      fs.writeFileSync(
        path.join(world.configDir, 'credentials', 'main.json'),
        JSON.stringify([{ name: 'notes', host: HOST, header: 'authorization', secret: SECRET }]),
      );
    });
    afterAll(async () => {
      await world?.close();
      if (methodLog) fs.rmSync(path.dirname(methodLog), { recursive: true, force: true });
    });

    const methods = (): string[] =>
      fs.existsSync(methodLog) ? fs.readFileSync(methodLog, 'utf8').trim().split('\n') : [];

    /** One turn with these tool calls; every request the model got, and the last tool result. */
    async function turn(...calls: Array<[string, Record<string, unknown>]>) {
      const before = world.model.requests.length;
      world.model.enqueue(
        ...calls.map(([name, input]) => reply().tool(name, input)),
        reply().text('done'),
      );
      const r = await world.ask('go');
      expect(r.code, r.stderr).toBe(0);
      const requests = world.model.requests.slice(before);
      const messages = requests.at(-1)!.body!.messages!;
      const [result] = (messages.at(-1)!.content as Block[]).filter(
        (b) => b.type === 'tool_result',
      );
      return { requests, result: result!, stdout: r.stdout };
    }

    it("offers the server's tools, calls one through the proxy with the owner's credential, and audits it", async () => {
      const { requests, result, stdout } = await turn(['notes__lookup', { word: 'tide' }]);
      const names = (requests[0]!.body!.tools ?? []).map((t) => t.name);
      expect(names).toContain('notes__lookup');
      // No rule for other.example: not reached, and the owner is told the rule that would allow it.
      expect(names.some((n) => n.startsWith('elsewhere__'))).toBe(false);
      expect(stdout).toContain(
        'MCP server elsewhere (https://other.example/mcp) could not be reached',
      );
      expect(stdout).toContain('allow http domain="other.example" path="/mcp"');
      expect(world.seen().some((s) => s.host === 'other.example')).toBe(false);

      expect(result.is_error ?? false, result.content).toBe(false);
      // The secret reached the server; what came back has it swapped for its placeholder.
      expect(result.content).toContain('notes on tide; authorization seen: nanocell-cred-notes-');
      expect(JSON.stringify(requests)).not.toContain('remote-mcp-secret');
      const posts = world.seen().filter((s) => s.host === HOST && s.method === 'POST');
      expect(posts.length).toBeGreaterThanOrEqual(3);
      expect(posts.every((s) => s.port === 443 && s.headers?.authorization === SECRET)).toBe(true);
      expect(posts.every((s) => s.headers?.['x-nanocell-pass'] === undefined)).toBe(true);
      expect(methods()).toEqual(
        expect.arrayContaining([
          'initialize',
          'notifications/initialized',
          'tools/list',
          'tools/call',
        ]),
      );
      // The session was ended when the run was over.
      expect(methods()).toContain('DELETE');
      expect(world.egressAudit()).toContainEqual(
        expect.objectContaining({
          host: HOST,
          kind: 'http',
          method: 'POST',
          decision: 'allowed',
          reason: expect.stringContaining("the host's request for MCP server notes") as unknown,
        }),
      );
    });

    it('holds the next call for the owner: the session has read what the server said', async () => {
      const calls = methods().filter((m) => m === 'tools/call').length;
      const { requests, result } = await turn(['notes__lookup', { word: 'secret plans' }]);
      // Connecting is the host's own doing, so the tools are still offered...
      expect((requests[0]!.body!.tools ?? []).map((t) => t.name)).toContain('notes__lookup');
      // ...but a call carries the model's words out: the gate asks the owner, and `ask` cannot.
      expect(result.is_error).toBe(true);
      expect(result.content).toContain("needs the owner's approval");
      expect(methods().filter((m) => m === 'tools/call')).toHaveLength(calls);
    });

    it("does not let the cell use the host's way out: its POST is held, and a forged pass refused", async () => {
      const plain = await turn(['bash', { command: CURL_POST }]);
      expect(plain.result.content).toContain('post=403');
      const forged = await turn([
        'bash',
        { command: CURL_POST.replace('-X POST', "-X POST -H 'x-nanocell-pass: guessed'") },
      ]);
      expect(forged.result.content).toContain('post=403');
      const denied = world.egressAudit().filter((e) => e.host === HOST && e.decision === 'denied');
      expect(denied.map((e) => String(e.reason))).toEqual(
        expect.arrayContaining([
          expect.stringContaining('held by the guard') as unknown,
          expect.stringContaining('x-nanocell-pass header that this run was not given') as unknown,
        ]),
      );
    });
  },
);
