import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { tempHome } from '../support/temp-home.js';

/** A port on the host's loopback: a cell must not be able to connect to it. */
async function listenOnHost(): Promise<{
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.end('host secret\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function toolResultText(body: unknown): string {
  const messages = (
    body as { messages: Array<{ content: Array<{ type: string; content?: string }> }> }
  ).messages;
  const last = messages.at(-1)!;
  return last.content
    .filter((b) => b.type === 'tool_result')
    .map((b) => b.content ?? '')
    .join('\n');
}

for (const rt of runtimesUnderTest()) {
  describe.skipIf(!(await shouldRun(rt.make())))(
    `ask runs a tool in a real ${rt.name} cell`,
    () => {
      let model: FakeModelServer;
      let hostPort: Awaited<ReturnType<typeof listenOnHost>>;
      let home: ReturnType<typeof tempHome>;
      let env: Record<string, string>;

      beforeAll(async () => {
        model = await startFakeModelServer();
        hostPort = await listenOnHost();
      });
      afterAll(async () => {
        await model.close();
        await hostPort.close();
      });
      beforeEach(() => {
        model.reset();
        home = tempHome();
        env = {
          ANTHROPIC_API_KEY: 'x',
          ANTHROPIC_BASE_URL: model.url,
          NANOCELL_HOME: home.dir,
          NANOCELL_RUNTIME: rt.name,
        };
      });
      afterEach(() => home.cleanup());

      it('writes into the group folder as a non-root user with no network, then prints the answer', async () => {
        const probe = [
          'echo made-in-cell > proof.txt',
          'echo "uid=$(id -u)"',
          `(exec 3<>/dev/tcp/127.0.0.1/${hostPort.port}) 2>/dev/null && echo HOST_PORT_OPEN || echo HOST_PORT_BLOCKED`,
          'curl -s --max-time 3 http://example.com >/dev/null 2>&1 && echo INTERNET_OPEN || echo INTERNET_BLOCKED',
          `echo "ifaces=$(awk -F: 'NR>2 {gsub(/ /, "", $1); printf "%s ", $1}' /proc/net/dev)"`,
        ].join('; ');
        model.enqueue(reply().text('Let me check.').tool('bash', { command: probe }));
        model.enqueue(reply().text('The file is written and the sandbox is offline.'));

        const result = await runCli(['ask', 'write a file and tell me your uid'], env);

        expect(result.stderr).not.toMatch(/error/i);
        expect(result.code).toBe(0);
        expect(result.stdout.trim()).toBe('The file is written and the sandbox is offline.');
        const proof = path.join(home.dir, 'groups', 'main', 'proof.txt');
        expect(fs.readFileSync(proof, 'utf8')).toBe('made-in-cell\n');

        expect(model.requests).toHaveLength(2);
        const output = toolResultText(model.requests[1]!.body);
        const uid = Number(/uid=(\d+)/.exec(output)?.[1]);
        expect(uid).toBeGreaterThan(0);
        expect(output).toContain('HOST_PORT_BLOCKED');
        expect(output).toContain('INTERNET_BLOCKED');
        expect(output).toMatch(/^ifaces=lo $/m);
        expect(hostPort.connections()).toBe(0);
      });

      it('sends the tools, the memory file and the previous turn with the next message', async () => {
        model.enqueue(reply().text('first answer'));
        expect((await runCli(['ask', 'first question'], env)).code).toBe(0);
        fs.writeFileSync(
          path.join(home.dir, 'groups', 'main', 'MEMORY.md'),
          'The owner likes tea.\n',
        );
        model.enqueue(reply().text('second answer'));
        const second = await runCli(['ask', 'second question'], env);
        expect(second.code).toBe(0);
        expect(second.stdout.trim()).toBe('second answer');

        const body = model.requests[1]!.body!;
        expect(JSON.stringify(body.system)).toContain('The owner likes tea.');
        const tools = body.tools!.map((t) => t.name);
        for (const name of ['bash', 'edit_file', 'grep', 'list_files', 'read_file', 'write_file']) {
          expect(tools).toContain(name);
        }
        const texts = body.messages!.map((m) => JSON.stringify(m.content));
        expect(texts[0]).toContain('first question');
        expect(texts[1]).toContain('first answer');
        expect(texts[2]).toContain('second question');
      });

      it('runs the file tools in the cell and reports a failing tool to the model as a tool error', async () => {
        model.enqueue(
          reply()
            .tool('write_file', { path: 'notes/a.txt', content: 'alpha\nbeta\n' })
            .tool('edit_file', { path: 'notes/a.txt', old_string: 'beta', new_string: 'gamma' })
            .tool('read_file', { path: 'notes/a.txt' })
            .tool('grep', { pattern: 'gam+a', path: 'notes' })
            .tool('list_files', { path: 'notes' })
            .tool('write_file', { path: '/etc/evil', content: 'x' })
            .tool('bash', { command: 'exit 3' }),
        );
        model.enqueue(reply().text('ok'));
        const result = await runCli(['ask', 'use the file tools'], env);
        expect(result.code).toBe(0);
        const last = model.requests[1]!.body!.messages!.at(-1)!.content as unknown as Array<{
          type: string;
          content: string;
          is_error?: boolean;
        }>;
        // The tool results, then the turn's context (the time) after them.
        expect(last.at(-1)?.type).toBe('text');
        const content = last.filter((b) => b.type === 'tool_result');
        expect(content).toHaveLength(7);
        const [write, edit, read, grep, list, evil, exit3] = content;
        expect(write!.is_error).toBeUndefined();
        expect(edit!.content).toContain('replaced 1');
        expect(read!.content).toMatch(/1\talpha\n\s+2\tgamma/);
        expect(grep!.content).toContain('a.txt:2:gamma');
        expect(list!.content).toContain('a.txt');
        expect(evil!.is_error).toBe(true);
        expect(evil!.content).toMatch(/permission denied|read-only/i);
        expect(exit3!.is_error).toBe(true);
        expect(exit3!.content).toContain('[exit code 3]');
        expect(
          fs.readFileSync(path.join(home.dir, 'groups', 'main', 'notes', 'a.txt'), 'utf8'),
        ).toBe('alpha\ngamma\n');
      });
    },
  );
}
