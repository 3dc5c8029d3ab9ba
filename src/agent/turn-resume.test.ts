import { describe, expect, it } from 'vitest';
import { FakeModelProvider } from '../../test/support/fake-model-provider.js';
import { reply } from '../../test/support/fake-model-server.js';
import { runTurn } from './agent-loop.js';
import type { ContentBlock, ConversationMessage } from './model-provider.js';

const user: ConversationMessage = { role: 'user', content: [{ type: 'text', text: 'go' }] };
const asked: ConversationMessage = {
  role: 'assistant',
  content: [
    { type: 'tool_use', id: 't1', name: 'send_message', input: { text: 'hi' } },
    { type: 'tool_use', id: 't2', name: 'bash', input: { command: 'make' } },
    { type: 'tool_use', id: 't3', name: 'bash', input: { command: 'ls' } },
  ],
};
const doneT1: ContentBlock = { type: 'tool_result', tool_use_id: 't1', content: 'sent' };

describe('runTurn resuming a turn a crash cut off', () => {
  it('keeps finished results, answers the cut-off call, runs only what never started', async () => {
    const provider = new FakeModelProvider([reply().text('finished')]);
    const ran: string[] = [];
    const journaled: string[] = [];
    const result = await runTurn({
      provider,
      system: 's',
      messages: [user],
      tools: [],
      maxTokens: 100,
      maxToolRounds: 5,
      executeTool: async (name, input) => {
        ran.push(`${name} ${JSON.stringify(input)}`);
        return { output: 'listed', isError: false };
      },
      resume: { steps: [asked], results: [doneT1], inFlight: 't2' },
      interrupted: (name) =>
        name === 'bash' ? { output: 'unknown outcome', isError: true } : undefined,
      journal: {
        step: (m) => void journaled.push(`step ${m.role}`),
        result: (r) =>
          void journaled.push(`result ${r.type === 'tool_result' ? r.tool_use_id : ''}`),
      },
    });

    expect(ran).toEqual(['bash {"command":"ls"}']);
    expect(result.text).toBe('finished');
    const sent = provider.requests[0]!.messages.at(-1)!.content;
    expect(sent).toEqual([
      doneT1,
      { type: 'tool_result', tool_use_id: 't2', content: 'unknown outcome', is_error: true },
      { type: 'tool_result', tool_use_id: 't3', content: 'listed' },
    ]);
    expect(journaled).toEqual(['result t2', 'result t3', 'step user', 'step assistant']);
  });

  it('ends at once when the answer was in before the crash', async () => {
    const provider = new FakeModelProvider([]);
    const answer: ConversationMessage = {
      role: 'assistant',
      content: [{ type: 'text', text: 'done' }],
    };
    const result = await runTurn({
      provider,
      system: 's',
      messages: [user],
      tools: [],
      maxTokens: 100,
      maxToolRounds: 5,
      executeTool: async () => ({ output: '', isError: false }),
      resume: { steps: [answer], results: [], inFlight: null },
    });
    expect(result).toMatchObject({ text: 'done', added: [answer] });
    expect(provider.requests).toHaveLength(0);
  });
});
