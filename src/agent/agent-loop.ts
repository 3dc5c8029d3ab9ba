import type {
  ContentBlock,
  ConversationMessage,
  ModelProvider,
  ToolDefinition,
} from './model-provider.js';

export interface ToolOutcome {
  output: string;
  isError: boolean;
}

/** Runs one tool call the model asked for. Must not throw: failures are outcomes. */
export type ToolExecutor = (
  name: string,
  input: Record<string, unknown>,
  signal?: AbortSignal,
) => Promise<ToolOutcome>;

export interface TurnInput {
  provider: ModelProvider;
  system: string;
  /** The conversation so far, ending with the new user message. */
  messages: ConversationMessage[];
  tools: ToolDefinition[];
  executeTool: ToolExecutor;
  maxTokens: number;
  maxToolRounds: number;
  signal?: AbortSignal;
  /** Called once, just before the first model request leaves (lets a cell warm in parallel). */
  onFirstRequest?: () => void;
  /**
   * Budget checks: each returns a reason to stop the turn, or undefined to go on.
   * `beforeToolCall` runs before every tool call; `afterModel` after every model response.
   */
  budget?: {
    beforeToolCall(): string | undefined;
    afterModel(usage: { inputTokens: number; outputTokens: number }): string | undefined;
  };
}

/** The turn went over one of its budgets; `message` is written for the chat. */
export class BudgetExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExceededError';
  }
}

export interface TurnResult {
  /** Messages this turn added after the input (assistant replies and tool results). */
  added: ConversationMessage[];
  /** The text of the final assistant message. */
  text: string;
  toolCalls: number;
  usage: { inputTokens: number; outputTokens: number };
}

/**
 * The agent loop: ask the model, run the tools it asks for, hand back the results, until
 * it answers without asking for a tool. Model failures reject with ModelError.
 */
export async function runTurn(input: TurnInput): Promise<TurnResult> {
  const conversation = [...input.messages];
  const added: ConversationMessage[] = [];
  const usage = { inputTokens: 0, outputTokens: 0 };
  let toolCalls = 0;

  for (let round = 0; ; round++) {
    if (round === 0) input.onFirstRequest?.();
    const response = await input.provider.complete(
      {
        system: input.system,
        messages: conversation,
        tools: input.tools,
        maxTokens: input.maxTokens,
      },
      input.signal,
    );
    usage.inputTokens += response.usage.inputTokens;
    usage.outputTokens += response.usage.outputTokens;
    const overModel = input.budget?.afterModel(response.usage);
    if (overModel) throw new BudgetExceededError(overModel);
    const assistant: ConversationMessage = { role: 'assistant', content: response.content };
    conversation.push(assistant);
    added.push(assistant);

    const uses = response.content.filter(
      (b): b is Extract<ContentBlock, { type: 'tool_use' }> => b.type === 'tool_use',
    );
    if (uses.length === 0) {
      return { added, text: textOf(response.content), toolCalls, usage };
    }

    const results: ContentBlock[] = [];
    const overBudget = round >= input.maxToolRounds;
    for (const use of uses) {
      const overTools = input.budget?.beforeToolCall();
      if (overTools) throw new BudgetExceededError(overTools);
      toolCalls++;
      const outcome = overBudget
        ? {
            output: `Tool call refused: this turn reached its limit of ${input.maxToolRounds} tool rounds. Answer with what you have.`,
            isError: true,
          }
        : await input.executeTool(use.name, use.input, input.signal);
      results.push({
        type: 'tool_result',
        tool_use_id: use.id,
        content: outcome.output,
        ...(outcome.isError ? { is_error: true } : {}),
      });
    }
    const toolMessage: ConversationMessage = { role: 'user', content: results };
    conversation.push(toolMessage);
    added.push(toolMessage);
    if (overBudget && round > input.maxToolRounds) {
      return {
        added,
        text: `(stopped after ${input.maxToolRounds} tool rounds)`,
        toolCalls,
        usage,
      };
    }
  }
}

function textOf(content: ContentBlock[]): string {
  return content
    .filter((b): b is Extract<ContentBlock, { type: 'text' }> => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
}
