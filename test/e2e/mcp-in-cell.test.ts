import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { tempHome } from '../support/temp-home.js';

/**
 * The owner lists stdio MCP servers in mcp.json; they run inside the group's real cell, their
 * tools reach the model as SERVER__tool, and every call passes the policy gate and the audit log.
 * The server is test/support/fake-mcp-server.mjs, copied into the group folder (the cell has
 * node but none of our node_modules).
 */
const FIXTURE = path.resolve(__dirname, '../support/fake-mcp-server.mjs');

type Block = { type: string; content?: string; is_error?: boolean };

function toolResults(body: unknown): Block[] {
  const messages = (body as { messages: Array<{ content: Block[] }> }).messages;
  return messages.at(-1)!.content.filter((b) => b.type === 'tool_result');
}

function server(mode: string) {
  return {
    command: '/usr/bin/node',
    args: ['/workspace/group/fake-mcp-server.mjs', mode],
    env: { FAKE_MCP_VAR: 'given' },
    groups: ['main'],
  };
}

for (const rt of runtimesUnderTest()) {
  describe.skipIf(!(await shouldRun(rt.make())))(`MCP servers in a real ${rt.name} cell`, () => {
    let model: FakeModelServer;
    let home: ReturnType<typeof tempHome>;
    let env: Record<string, string>;
    let configDir: string;
    let config: ReturnType<typeof tempHome>;

    beforeAll(async () => {
      model = await startFakeModelServer();
    });
    afterAll(async () => {
      await model.close();
    });
    beforeEach(async () => {
      model.reset();
      home = tempHome();
      // Outside the data dir, as the host requires.
      config = tempHome('nanocell-test-config-');
      configDir = config.dir;
      fs.mkdirSync(path.join(configDir, 'policy'), { recursive: true });
      fs.writeFileSync(
        path.join(configDir, 'mcp.json'),
        JSON.stringify({ servers: { fake: server('ok'), crashy: server('crash') } }, null, 2),
      );
      env = {
        ANTHROPIC_API_KEY: 'x',
        ANTHROPIC_BASE_URL: model.url,
        NANOCELL_HOME: home.dir,
        NANOCELL_CONFIG_DIR: configDir,
        NANOCELL_RUNTIME: rt.name,
      };
      // The store and the main group's folder first, then the server's script into it.
      const init = await runCli(['groups', 'list'], env);
      expect(init.code, init.stderr).toBe(0);
      const script = path.join(home.dir, 'groups', 'main', 'fake-mcp-server.mjs');
      fs.copyFileSync(FIXTURE, script);
      fs.chmodSync(script, 0o644);
    });
    afterEach(() => {
      home.cleanup();
      config.cleanup();
    });

    async function auditToolCalls(): Promise<string[]> {
      const tail = await runCli(['audit', 'tail', '-n', '50'], env);
      expect(tail.code, tail.stderr).toBe(0);
      return tail.stdout.split('\n').filter((l) => l.includes('tool_call'));
    }

    it('offers the server tools in the first request and runs them in the cell, audited', async () => {
      model.enqueue(
        reply().tool('fake__where', {}).tool('fake__echo', { text: 'hello' }),
        reply().text('done'),
      );
      const r = await runCli(['ask', 'use the fake server'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('done');

      const offered = model.requests[0]!.body!.tools!.map((t) => t.name);
      expect(offered).toEqual(expect.arrayContaining(['bash', 'fake__echo', 'fake__where']));
      const [where, echo] = toolResults(model.requests[1]!.body);
      expect(where!.content).toBe('cwd=/workspace/group in-cell=true var=given');
      expect(echo!.content).toBe('echo: hello');
      expect(echo!.is_error).toBeUndefined();

      const calls = await auditToolCalls();
      const echoCall = calls.find((l) => l.includes('tool=fake__echo '));
      expect(echoCall).toMatch(/decision=allow /);
      expect(echoCall).toMatch(/outcome=ok /);
      // The first result came from the server: the run is labelled untrusted from then on.
      expect(calls.find((l) => l.includes('tool=fake__where '))).toMatch(/label=trusted/);
      expect(echoCall).toMatch(/label=untrusted\(mcp:fake\)/);
    });

    it('refuses an MCP tool a deny rule names, and audits the refusal', async () => {
      fs.writeFileSync(path.join(configDir, 'policy', 'default.policy'), 'deny fake__echo\n');
      model.enqueue(
        reply().tool('fake__echo', { text: 'x' }).tool('fake__where', {}),
        reply().text('refused'),
      );
      const r = await runCli(['ask', 'try echo'], env);
      expect(r.code, r.stderr).toBe(0);
      const [echo, where] = toolResults(model.requests[1]!.body);
      expect(echo!.is_error).toBe(true);
      expect(echo!.content).toContain("Denied by the owner's policy");
      expect(where!.content).toContain('in-cell=true');
      const echoCall = (await auditToolCalls()).find((l) => l.includes('tool=fake__echo '));
      expect(echoCall).toMatch(/decision=deny /);
      expect(echoCall).toMatch(/outcome=not_run /);
      expect(echoCall).toMatch(/default\.policy:1 deny fake__echo/);
    });

    it('counts MCP calls against the run budget', async () => {
      model.enqueue(
        reply().tool('fake__echo', { text: 'one' }).tool('fake__echo', { text: 'two' }),
        reply().text('not reached'),
      );
      const r = await runCli(['ask', 'echo twice'], { ...env, NANOCELL_BUDGET_TOOL_CALLS: '1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('this turn used its 1 tool call; stopped');
      expect(r.stdout).not.toContain('not reached');
      expect(model.requests).toHaveLength(1);
      const echoes = (await auditToolCalls()).filter((l) => l.includes('tool=fake__echo '));
      expect(echoes).toHaveLength(1);
    });

    it('survives a crashing server: its tool says why, and bash still works in the cell', async () => {
      model.enqueue(
        reply().tool('crashy__echo', { text: 'x' }),
        reply().tool('bash', { command: 'echo still-here' }).tool('fake__echo', { text: 'y' }),
        reply().text('survived'),
      );
      const r = await runCli(['ask', 'crash it'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^survived$/m);
      // The owner is told, once, on every surface (here: the terminal of this `ask`).
      expect(
        r.stdout.match(/MCP server crashy stopped during a run: .*exited with code 3/g),
      ).toHaveLength(1);
      const [crash] = toolResults(model.requests[1]!.body);
      expect(crash!.is_error).toBe(true);
      expect(crash!.content).toContain('exited with code 3');
      expect(crash!.content).toContain('crashing as asked');
      const [bash, echo] = toolResults(model.requests[2]!.body);
      expect(bash!.content).toContain('still-here');
      expect(echo!.content).toBe('echo: y');
      const crashCall = (await auditToolCalls()).find((l) => l.includes('tool=crashy__echo '));
      expect(crashCall).toMatch(/outcome=error /);
    });
  });
}

describe('doctor and mcp.json', () => {
  it('reports an invalid mcp.json with the line and key', async () => {
    const home = tempHome();
    const config = tempHome('nanocell-test-config-');
    try {
      fs.writeFileSync(
        path.join(config.dir, 'mcp.json'),
        '{\n  "servers": {\n    "fake": {\n      "command": "node",\n      "groups": "main"\n    }\n  }\n}\n',
      );
      const r = await runCli(['doctor'], {
        ANTHROPIC_API_KEY: 'x',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
        NANOCELL_HOME: home.dir,
        NANOCELL_CONFIG_DIR: config.dir,
      });
      expect(r.stdout).toContain(
        `FAIL mcp.json: ${path.join(config.dir, 'mcp.json')} line 5: servers.fake.groups: must be a list of group names`,
      );
    } finally {
      home.cleanup();
      config.cleanup();
    }
  });
});
