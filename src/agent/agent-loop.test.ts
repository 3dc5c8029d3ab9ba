import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  hang,
  httpError,
  reply,
  startFakeModelServer,
  type FakeModelServer,
  type RecordedRequest,
} from '../../test/support/fake-model-server.js';
import { BudgetExceededError } from '../policy/budgets.js';
import { RunBudget } from '../policy/run-budget.js';
import { runTurn, type ToolExecutor, type ToolOutcome, type TurnEvent } from './agent-loop.js';
import { AnthropicProvider, type AnthropicOptions } from './anthropic.js';
import { complete, ModelError, type ModelRequest, type ToolDefinition } from './model-provider.js';

const tools: ToolDefinition[] = [
  {
    name: 'bash',
    description: 'Run a command.',
    input_schema: {
      type: 'object',
      properties: { command: { type: 'string' } },
      required: ['command'],
    },
  },
];

const request: ModelRequest = {
  system: 'You are a test.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  tools,
  maxTokens: 256,
};

/** An executor that records its calls and answers from a function the test gives it. */
function fakeExecutor(
  answer: (name: string, input: Record<string, unknown>) => ToolOutcome = () => ({
    output: 'done',
    isError: false,
  }),
) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const execute: ToolExecutor = async (name, input) => {
    calls.push({ name, input });
    return answer(name, input);
  };
  return { calls, execute };
}

/** The tool_result blocks a recorded request sends back in its last message. */
function toolResults(req: RecordedRequest | undefined): Array<Record<string, unknown>> {
  const last = req?.body?.messages?.at(-1);
  if (!last || typeof last.content === 'string') return [];
  return last.content.filter((b) => b.type === 'tool_result');
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function modelError(p: Promise<unknown>): Promise<ModelError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ModelError) return err;
    throw err;
  }
  throw new Error('expected a ModelError, got a result');
}

describe('agent loop and Anthropic provider against the fake model server', () => {
  let server: FakeModelServer;
  beforeEach(async () => {
    server = await startFakeModelServer();
    server.requireApiKey('test-key');
  });
  afterEach(async () => {
    await server.close();
  });

  const provider = (options: Partial<AnthropicOptions> = {}): AnthropicProvider =>
    new AnthropicProvider({
      apiKey: 'test-key',
      baseUrl: server.url,
      model: 'claude-test',
      timeoutMs: 5000,
      maxRetries: 0,
      ...options,
    });

  const turn = (executeTool: ToolExecutor, maxToolRounds = 10) =>
    runTurn({
      provider: provider(),
      system: 'You are a test.',
      messages: request.messages,
      tools,
      executeTool,
      maxTokens: 256,
      maxToolRounds,
    });

  describe('runTurn', () => {
    it('ends the turn on a text-only reply, without running tools', async () => {
      server.enqueue(reply().text('Hello there.').usage({ input_tokens: 11, output_tokens: 3 }));
      const executor = fakeExecutor();
      const result = await turn(executor.execute);

      expect(result).toEqual({
        added: [{ role: 'assistant', content: [{ type: 'text', text: 'Hello there.' }] }],
        text: 'Hello there.',
        toolCalls: 0,
        usage: { inputTokens: 11, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 },
      });
      expect(executor.calls).toEqual([]);
      expect(server.requests).toHaveLength(1);
      const body = server.requests[0]?.body;
      expect(body).toMatchObject({
        model: 'claude-test',
        max_tokens: 256,
        stream: true,
        // The system prompt is a cache breakpoint (src/agent/anthropic-prompt.ts).
        system: [{ type: 'text', text: 'You are a test.', cache_control: { type: 'ephemeral' } }],
      });
      expect(body?.tools?.map((t) => t.name)).toEqual(['bash']);
    });

    it('runs a requested tool, sends its result back and ends with the final text', async () => {
      server.enqueue(
        reply()
          .text('Checking.')
          .tool('bash', { command: 'ls' }, { id: 'toolu_a' })
          .usage({ input_tokens: 10, output_tokens: 5 }),
        reply().text('You have one file.').usage({ input_tokens: 20, output_tokens: 7 }),
      );
      const executor = fakeExecutor(() => ({ output: 'notes.txt', isError: false }));
      const result = await turn(executor.execute);

      expect(executor.calls).toEqual([{ name: 'bash', input: { command: 'ls' } }]);
      expect(toolResults(server.requests[1])).toEqual([
        {
          type: 'tool_result',
          tool_use_id: 'toolu_a',
          content: 'notes.txt',
          cache_control: { type: 'ephemeral' },
        },
      ]);
      expect(result.text).toBe('You have one file.');
      expect(result.toolCalls).toBe(1);
      expect(result.usage).toEqual({
        inputTokens: 30,
        outputTokens: 12,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      });
      expect(result.added.map((m) => [m.role, m.content.map((b) => b.type)])).toEqual([
        ['assistant', ['text', 'tool_use']],
        ['user', ['tool_result']],
        ['assistant', ['text']],
      ]);
    });

    it('marks a failed tool call with is_error', async () => {
      server.enqueue(
        reply().tool('bash', { command: 'false' }, { id: 'toolu_f' }),
        reply().text('It failed.'),
      );
      const executor = fakeExecutor(() => ({ output: '\n[exit code 1]', isError: true }));
      const result = await turn(executor.execute);
      expect(toolResults(server.requests[1])).toEqual([
        {
          type: 'tool_result',
          tool_use_id: 'toolu_f',
          content: '\n[exit code 1]',
          is_error: true,
          cache_control: { type: 'ephemeral' },
        },
      ]);
      expect(result.text).toBe('It failed.');
    });

    it('runs every tool call of one reply, in order, and answers them in one message', async () => {
      server.enqueue(
        reply()
          .tool('bash', { command: 'one' }, { id: 'toolu_1' })
          .tool('bash', { command: 'two' }, { id: 'toolu_2' })
          .tool('read_file', { path: 'x' }, { id: 'toolu_3' }),
        reply().text('All three done.'),
      );
      const executor = fakeExecutor((name, input) => ({
        output: `${name}:${JSON.stringify(input)}`,
        isError: false,
      }));
      const result = await turn(executor.execute);

      expect(executor.calls.map((c) => c.input)).toEqual([
        { command: 'one' },
        { command: 'two' },
        { path: 'x' },
      ]);
      expect(toolResults(server.requests[1]).map((r) => [r.tool_use_id, r.content])).toEqual([
        ['toolu_1', 'bash:{"command":"one"}'],
        ['toolu_2', 'bash:{"command":"two"}'],
        ['toolu_3', 'read_file:{"path":"x"}'],
      ]);
      expect(result.toolCalls).toBe(3);
      expect(server.requests).toHaveLength(2);
    });

    it('stops a model that never stops calling tools, telling it why as a tool error', async () => {
      const maxToolRounds = 3;
      server.script(Array.from({ length: 20 }, () => reply().tool('bash', { command: 'again' })));
      const executor = fakeExecutor();
      const result = await turn(executor.execute, maxToolRounds);

      expect(result.text).toBe(`(stopped after ${maxToolRounds} tool rounds)`);
      expect(server.requests.length).toBeLessThanOrEqual(maxToolRounds + 2);
      expect(executor.calls.length).toBeLessThanOrEqual(maxToolRounds);
      const refusals = server.requests.flatMap(toolResults).filter((r) => r.is_error === true);
      expect(refusals.length).toBeGreaterThan(0);
      expect(refusals[0]?.content).toContain(`limit of ${maxToolRounds} tool rounds`);
      expect(result.added.at(-1)?.content[0]).toMatchObject({
        type: 'tool_result',
        is_error: true,
      });
    });

    it('ends normally when the model answers after its tool call is refused', async () => {
      const untilRefused = (req: RecordedRequest) =>
        toolResults(req).some((r) => r.is_error === true)
          ? reply().text('Here is what I have.')
          : reply().tool('bash', { command: 'again' });
      server.script(Array.from({ length: 10 }, () => untilRefused));
      const result = await turn(fakeExecutor().execute, 3);
      expect(result.text).toBe('Here is what I have.');
      expect(result.added.at(-1)).toEqual({
        role: 'assistant',
        content: [{ type: 'text', text: 'Here is what I have.' }],
      });
    });

    // maxToolRounds=N lets only N-1 rounds of tools run: round index N-1 is already refused
    // (agent-loop.ts: `overBudget = round + 1 >= maxToolRounds`). With N=1 no tool ever runs.
    it.each([1, 2, 3])(
      'runs tools in up to maxToolRounds=%i rounds before refusing',
      async (maxToolRounds) => {
        server.script(Array.from({ length: 20 }, () => reply().tool('bash', { command: 'again' })));
        const executor = fakeExecutor();
        await turn(executor.execute, maxToolRounds);
        expect(executor.calls).toHaveLength(maxToolRounds);
      },
    );

    it('calls onFirstRequest once, before the first request', async () => {
      server.enqueue(reply().tool('bash', { command: 'x' }), reply().text('ok'));
      const seen: number[] = [];
      await runTurn({
        provider: provider(),
        system: 's',
        messages: request.messages,
        tools,
        executeTool: fakeExecutor().execute,
        maxTokens: 256,
        maxToolRounds: 10,
        onFirstRequest: () => seen.push(server.requests.length),
      });
      expect(seen).toEqual([0]);
    });

    it('rejects with the ModelError when the model fails mid-turn', async () => {
      server.enqueue(reply().tool('bash', { command: 'x' }), httpError(401));
      const err = await modelError(turn(fakeExecutor().execute));
      expect(err.kind).toBe('auth');
    });

    it('tells onUsage each response as it arrives, so a turn that fails later still counts', async () => {
      server.enqueue(
        reply()
          .tool('bash', { command: 'x' })
          .usage({ input_tokens: 30, output_tokens: 4, cache_read_input_tokens: 500 }),
        httpError(401),
      );
      const seen: unknown[] = [];
      await modelError(
        runTurn({
          provider: provider(),
          system: 'You are a test.',
          messages: request.messages,
          tools,
          executeTool: fakeExecutor().execute,
          maxTokens: 256,
          maxToolRounds: 10,
          onUsage: (response) => seen.push({ model: response.model, ...response.usage }),
        }),
      );
      expect(seen).toEqual([
        {
          model: 'claude-test',
          inputTokens: 30,
          outputTokens: 4,
          cacheReadTokens: 500,
          cacheWriteTokens: 0,
        },
      ]);
    });

    it("stops a hung model request when the turn's wall time is up, with the budget's reason", async () => {
      server.enqueue(hang());
      const budget = new RunBudget({ wallTimeMs: 200 }, { subject: 'this turn' });
      const err = await runTurn({
        provider: provider({ timeoutMs: 60_000 }),
        system: 'You are a test.',
        messages: request.messages,
        tools,
        executeTool: fakeExecutor().execute,
        maxTokens: 256,
        maxToolRounds: 10,
        budget,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BudgetExceededError);
      expect((err as Error).message).toBe('this turn ran for its 0 seconds; stopped');
    });

    it('streams text deltas and tool starts and ends to the sink as they happen', async () => {
      server.enqueue(
        reply().text('Let me look.').tool('bash', { command: 'ls' }, { id: 't1' }),
        reply().text('Found it.'),
      );
      const events: TurnEvent[] = [];
      await runTurn({
        provider: provider(),
        system: 'You are a test.',
        messages: request.messages,
        tools,
        executeTool: fakeExecutor().execute,
        maxTokens: 256,
        maxToolRounds: 10,
        onEvent: (e) => events.push(e),
      });
      const text = events.flatMap((e) => (e.type === 'text' ? [e.text] : []));
      expect(text.join('')).toBe('Let me look.Found it.');
      expect(events.filter((e) => e.type !== 'text')).toEqual([
        { type: 'tool_start', id: 't1', name: 'bash' },
        { type: 'tool_end', id: 't1', name: 'bash', isError: false },
      ]);
    });
  });

  describe('AnthropicProvider', () => {
    it('fails with no_api_key without sending any request', async () => {
      const err = await modelError(complete(provider({ apiKey: undefined }), request));
      expect(err.kind).toBe('no_api_key');
      expect(err.message).toContain('ANTHROPIC_API_KEY');
      expect(server.requests).toHaveLength(0);
    });

    it.each([
      {
        name: 'a 401 is auth, not retried',
        script: [httpError(401)],
        maxRetries: 2,
        kind: 'auth',
        requests: 1,
      },
      { name: 'a 403 is auth', script: [httpError(403)], maxRetries: 2, kind: 'auth', requests: 1 },
      {
        name: 'a 400 is bad_request',
        script: [httpError(400)],
        maxRetries: 2,
        kind: 'bad_request',
        requests: 1,
      },
      {
        name: '500 three times with 2 retries is server',
        script: [httpError(500), httpError(500), httpError(500)],
        maxRetries: 2,
        kind: 'server',
        requests: 3,
      },
      {
        name: 'a 529 is overloaded',
        script: [httpError(529)],
        maxRetries: 0,
        kind: 'overloaded',
        requests: 1,
      },
      {
        name: 'a 429 past the retries is rate_limit',
        script: [httpError(429), httpError(429)],
        maxRetries: 1,
        kind: 'rate_limit',
        requests: 2,
      },
    ])('$name', async ({ script, maxRetries, kind, requests }) => {
      server.script(script);
      const err = await modelError(complete(provider({ maxRetries }), request));
      expect(err.kind).toBe(kind);
      expect(server.requests).toHaveLength(requests);
    });

    it('retries a 429 and succeeds', async () => {
      server.script([httpError(429), reply().text('after the wait')]);
      const res = await complete(provider({ maxRetries: 2 }), request);
      expect(res.content).toEqual([{ type: 'text', text: 'after the wait' }]);
      expect(res.stopReason).toBe('end_turn');
      expect(server.requests).toHaveLength(2);
    });

    it('sends the API key the fake server requires', async () => {
      server.enqueue(reply().text('ok'));
      await complete(provider(), request);
      const headers = server.requests[0]?.headers ?? {};
      expect(headers['x-api-key'] ?? headers['authorization']).toMatch(/test-key/);
    });

    it('maps a rejected API key to auth', async () => {
      const err = await modelError(complete(provider({ apiKey: 'wrong' }), request));
      expect(err.kind).toBe('auth');
    });

    it('times out a request the server never answers', async () => {
      server.enqueue(hang());
      const err = await modelError(complete(provider({ timeoutMs: 300, maxRetries: 0 }), request));
      expect(err.kind).toBe('timeout');
      expect(err.message).toContain('300 ms');
    });

    it('reports an unreachable base URL as connection', async () => {
      const port = await closedPort();
      const err = await modelError(
        complete(provider({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 }), request),
      );
      expect(err.kind).toBe('connection');
      expect(err.message).toContain(`127.0.0.1:${port}`);
    });

    it('maps tool_use blocks and the stop reason', async () => {
      server.enqueue(reply().tool('bash', { command: 'ls', env: { A: '1' } }, { id: 'toolu_x' }));
      const res = await complete(provider(), request);
      expect(res.content).toEqual([
        {
          type: 'tool_use',
          id: 'toolu_x',
          name: 'bash',
          input: { command: 'ls', env: { A: '1' } },
        },
      ]);
      expect(res.stopReason).toBe('tool_use');
    });

    it('checks ok against a server that answers', async () => {
      const res = await provider().check();
      expect(res.ok).toBe(true);
      expect(res.detail).toContain(server.url);
      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
    });

    it('checks not ok without an API key, without a request', async () => {
      const res = await provider({ apiKey: undefined }).check();
      expect(res).toEqual({ ok: false, detail: 'ANTHROPIC_API_KEY is not set' });
      expect(server.requests).toHaveLength(0);
    });

    it('checks not ok when the key is rejected', async () => {
      const res = await provider({ apiKey: 'wrong' }).check();
      expect(res.ok).toBe(false);
      expect(res.detail).toMatch(/HTTP 401/);
    });
  });
});
