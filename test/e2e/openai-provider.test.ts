import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpError, reply } from '../support/fake-model-server.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fake-openai-server.js';
import { runCli } from '../support/run-cli.js';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { tempHome } from '../support/temp-home.js';

interface ChatMessage {
  role: string;
  content: string | null;
  tool_call_id?: string;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
}
const messagesOf = (body: unknown): ChatMessage[] => (body as { messages: ChatMessage[] }).messages;

for (const rt of runtimesUnderTest()) {
  describe.skipIf(!(await shouldRun(rt.make())))(
    `the openai provider runs a turn with a tool in a real ${rt.name} cell`,
    () => {
      let model: FakeOpenAIServer;
      let home: ReturnType<typeof tempHome>;
      let env: Record<string, string>;

      beforeAll(async () => {
        model = await startFakeOpenAIServer();
      });
      afterAll(() => model.close());
      beforeEach(() => {
        model.reset();
        home = tempHome();
        // No API key at all: a local server (Ollama, vLLM, LM Studio) needs none.
        env = {
          NANOCELL_PROVIDER: 'openai',
          OPENAI_BASE_URL: model.url,
          NANOCELL_MODEL: 'llama3.2',
          NANOCELL_HOME: home.dir,
          NANOCELL_RUNTIME: rt.name,
        };
      });
      afterEach(() => home.cleanup());

      it('asks llama3.2, runs its bash call in the cell and sends the output back as a tool message', async () => {
        model.enqueue(
          reply()
            .text('Let me write it.')
            .tool(
              'bash',
              { command: 'echo made-by-llama > proof.txt; echo "uid=$(id -u)"' },
              { id: 'call_w1' },
            ),
          reply().text('Written.'),
        );

        const result = await runCli(['ask', 'write proof.txt'], env);

        expect(result.stderr).not.toMatch(/error/i);
        expect(result.code).toBe(0);
        expect(result.stdout.trim()).toBe('Written.');
        const proof = path.join(home.dir, 'groups', 'main', 'proof.txt');
        expect(fs.readFileSync(proof, 'utf8')).toBe('made-by-llama\n');

        expect(model.requests).toHaveLength(2);
        const [first, second] = model.requests;
        expect(first!.path).toBe('/v1/chat/completions');
        expect(first!.body!.model).toBe('llama3.2');
        expect(first!.body!.stream).toBe(true);
        expect(first!.headers['authorization']).toBeUndefined();
        const sent = messagesOf(second!.body);
        expect(sent[0]!.role).toBe('system');
        const call = sent.find((m) => m.role === 'assistant' && m.tool_calls);
        expect(call!.tool_calls![0]!).toMatchObject({ id: 'call_w1', function: { name: 'bash' } });
        const toolMessage = sent.find((m) => m.role === 'tool');
        expect(toolMessage!.tool_call_id).toBe('call_w1');
        expect(Number(/uid=(\d+)/.exec(toolMessage!.content ?? '')?.[1])).toBeGreaterThan(0);
      });

      it("uses a group's own model once `groups set` names one", async () => {
        const add = await runCli(['groups', 'add', 'family', '--no-trigger'], env);
        expect(add.code).toBe(0);
        const set = await runCli(['groups', 'set', 'family', '--model', 'qwen2.5'], env);
        expect(set.stdout).toContain('family: runs use openai qwen2.5');
        expect(set.code).toBe(0);
        model.enqueue(
          reply().tool('bash', { command: 'echo family-cell > f.txt' }),
          reply().text('family answer'),
          reply().text('main answer'),
        );

        const family = await runCli(['ask', '--group', 'family', 'hello'], env);
        expect(family.code).toBe(0);
        expect(family.stdout.trim()).toBe('family answer');
        expect(fs.readFileSync(path.join(home.dir, 'groups', 'family', 'f.txt'), 'utf8')).toBe(
          'family-cell\n',
        );
        const main = await runCli(['ask', 'hello'], env);
        expect(main.stdout.trim()).toBe('main answer');
        expect(model.requests.map((r) => r.body!.model)).toEqual([
          'qwen2.5',
          'qwen2.5',
          'llama3.2',
        ]);

        const refused = await runCli(
          ['groups', 'set', 'family', '--model', 'x', '--provider', 'ollama'],
          env,
        );
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('unknown provider "ollama": use one of anthropic, openai');
      });

      it('says plainly that a model cannot call tools, and keeps the message for the next try', async () => {
        model.enqueue(
          httpError(400, { message: 'registry.ollama.ai/library/gemma:2b does not support tools' }),
        );
        const first = await runCli(['ask', 'remember the milk'], {
          ...env,
          NANOCELL_MODEL: 'gemma:2b',
        });
        expect(first.code).toBe(1);
        expect(first.stderr).toContain('The model gemma:2b does not support tool calls');
        expect(first.stderr).toContain('NANOCELL_MODEL');

        model.enqueue(reply().text('noted both'));
        const second = await runCli(['ask', 'and the eggs'], env);
        expect(second.code).toBe(0);
        const lastUser = JSON.stringify(messagesOf(model.requests[1]!.body).at(-1));
        expect(lastUser).toContain('remember the milk');
        expect(lastUser).toContain('and the eggs');
      });

      it('answers from NANOCELL_FALLBACK_MODEL when the model keeps failing', async () => {
        model.enqueue(httpError(503), httpError(503), reply().text('from the fallback'));
        const r = await runCli(['ask', 'hello'], {
          ...env,
          NANOCELL_MODEL_MAX_RETRIES: '1',
          NANOCELL_FALLBACK_MODEL: 'qwen2.5',
        });
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe('from the fallback');
        expect(model.requests.map((q) => q.body!.model)).toEqual([
          'llama3.2',
          'llama3.2',
          'qwen2.5',
        ]);
      });

      it('doctor names the provider and model and checks them with the server', async () => {
        const r = await runCli(['doctor'], env);
        expect(r.stdout).toMatch(
          /^FAIL model: openai llama3\.2 at http:\/\/127\.0\.0\.1:\d+\/v1: .*does not list the model llama3\.2/m,
        );
        model.modelsEndpoint(false);
        model.enqueue(reply().text('hi'));
        const again = await runCli(['doctor'], env);
        expect(again.stdout).toMatch(
          /^ok {3}model: openai llama3\.2 at .*one-token request with tools/m,
        );
      });
    },
  );
}
