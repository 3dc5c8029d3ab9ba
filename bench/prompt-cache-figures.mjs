import { Buffer } from 'node:buffer';
import crypto from 'node:crypto';
import http from 'node:http';
import { runTurn } from '../dist/agent/agent-loop.js';
import { AnthropicProvider } from '../dist/agent/anthropic.js';
import { buildSystemPrompt, buildTurnContext } from '../dist/agent/system-prompt.js';
import { cellToolDefinitions } from '../dist/tools/cell-tools.js';
import { hostToolSpecs } from '../dist/tools/host-tool-specs.js';
import { toolDefinition } from '../dist/tools/tool-spec.js';
import { PromptCache } from '../test/support/prompt-cache.mjs';
import { streamEvents } from './fake-model.mjs';

/** Anthropic's shortest cacheable prefix for Sonnet and Opus models. */
const MIN_CACHE_TOKENS = 1024;

const WORDS =
  'the plan for the week is to book the train, answer the letters, water the plants and call the bank about the new card before friday'.split(
    ' ',
  );
const sentence = (n, seed) =>
  Array.from({ length: n }, (_, i) => WORDS[(i * 7 + seed) % WORDS.length]).join(' ');

/**
 * A fake Messages API whose usage is counted by the prompt cache model the tests use
 * (test/support/prompt-cache.mjs), with Anthropic's 1,024-token minimum. Each answer is a
 * deterministic text of about 60 words.
 */
async function startCountingModel() {
  const cache = new PromptCache({ minTokens: MIN_CACHE_TOKENS });
  let answered = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const counted = cache.account(body);
      const text = `Answer ${++answered}: ${sentence(60, answered)}.`;
      const message = {
        id: `msg_${crypto.randomBytes(8).toString('hex')}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { ...counted, output_tokens: Math.ceil(text.length / 4) },
      };
      res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_bench' });
      res.end(streamEvents(message));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/**
 * A conversation of `turns` owner messages in the admin group, through the compiled agent
 * loop and Anthropic provider, with the host's real system prompt and tool definitions (cell
 * and host tools). Returns each turn's usage.
 */
export async function conversationUsage({ turns, promptCache }) {
  const model = await startCountingModel();
  try {
    const provider = new AnthropicProvider({
      apiKey: 'bench',
      baseUrl: model.url,
      model: 'claude-sonnet-4',
      timeoutMs: 10_000,
      maxRetries: 0,
      promptCache,
    });
    const system = buildSystemPrompt({
      assistantName: 'Andy',
      groupName: 'main',
      isAdmin: true,
      memory: { text: `# Notes\n${sentence(120, 3)}\n` },
      globalMemory: { text: `# Everyone\n${sentence(60, 5)}\n` },
    });
    const tools = [
      ...cellToolDefinitions,
      ...Object.values(hostToolSpecs).map((spec) => toolDefinition(spec)),
    ];
    const start = Date.UTC(2026, 11, 3, 9, 0, 0);
    const messages = [];
    const perTurn = [];
    for (let turn = 1; turn <= turns; turn++) {
      messages.push({
        role: 'user',
        content: [{ type: 'text', text: `[Sam (owner)] ${sentence(40, turn)}?` }],
      });
      const result = await runTurn({
        provider,
        system,
        // A minute apart: the time changes every turn, as it does for the host.
        context: buildTurnContext({ timezone: 'UTC', now: new Date(start + turn * 60_000) }),
        messages,
        tools,
        executeTool: () => Promise.resolve({ output: 'not used', isError: true }),
        maxTokens: 1024,
        maxToolRounds: 5,
      });
      messages.push(...result.added);
      perTurn.push(result.usage);
    }
    return perTurn;
  } finally {
    await model.close();
  }
}
