import { BudgetExceededError, type ChargeResult } from '../policy/budgets.js';
import {
  ModelError,
  type ContentBlock,
  type ConversationMessage,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type ModelUsage,
  type ToolDefinition,
} from './model-provider.js';

export { BudgetExceededError } from '../policy/budgets.js';

export interface ToolOutcome {
  output: string;
  isError: boolean;
}

/** Runs one tool call the model asked for. Must not throw: failures are outcomes. */
export type ToolExecutor = (
  name: string,
  input: Record<string, unknown>,
  signal?: AbortSignal,
  /** The model's id for the call (unique in the turn): an idempotency key for its effects. */
  callId?: string,
) => Promise<ToolOutcome>;

/** What a turn's budget must offer the loop (a RunBudget does). */
export interface TurnBudget {
  /** Fires when the turn must stop; its reason (a BudgetExceededError) is what the turn throws. */
  readonly signal: AbortSignal;
  charge(kind: 'toolCalls' | 'modelTokens', amount: number): ChargeResult;
}

/** What a caller may show while a turn runs: text as it is generated, tools as they run. */
export type TurnEvent =
  | { type: 'text'; text: string }
  | { type: 'tool_start'; id: string; name: string }
  | { type: 'tool_end'; id: string; name: string; isError: boolean }
  /** A finished call as the host decided and ran it (told by the run's tool dispatch). */
  | {
      type: 'tool_step';
      id: string;
      name: string;
      input: Record<string, unknown>;
      output: string;
      isError: boolean;
      decision: 'allow' | 'deny' | 'ask';
      rule: string | null;
      durationMs: number;
    };

export interface TurnInput {
  provider: ModelProvider;
  system: string;
  /** What holds for this turn only (the time); see ModelRequest.context. */
  context?: string;
  /** The conversation so far, ending with the new user message. */
  messages: ConversationMessage[];
  tools: ToolDefinition[];
  executeTool: ToolExecutor;
  maxTokens: number;
  maxToolRounds: number;
  signal?: AbortSignal;
  /** Called once, just before the first model request leaves (lets a cell warm in parallel). */
  onFirstRequest?: () => void;
  /** Charged after every model response (tokens) and before every tool call; its signal stops the turn. */
  budget?: TurnBudget;
  /** Told each event as it happens. Must not throw. */
  onEvent?: (event: TurnEvent) => void;
  /**
   * Told each model response's tokens as it arrives, before anything else is done with it,
   * so a turn that fails later still counts what it used. Must not throw.
   */
  onUsage?: (response: ModelResponse) => void;
  /**
   * Where a turn a crash cut off was (src/run/turn-journal.ts): its steps are taken as done,
   * the last round's finished calls keep their results, and `interrupted` answers the call
   * that was running (whose outcome is unknown) instead of running it again.
   */
  resume?: {
    steps: ConversationMessage[];
    results: ContentBlock[];
    inFlight: string | null;
  };
  interrupted?: (name: string) => ToolOutcome | undefined;
  /** Told each message the turn adds and each tool result, as they happen (to journal them). */
  journal?: {
    step(message: ConversationMessage): void;
    result(result: ContentBlock): void;
  };
}

export interface TurnResult {
  /** Messages this turn added after the input (assistant replies and tool results). */
  added: ConversationMessage[];
  /** The text of the final assistant message. */
  text: string;
  toolCalls: number;
  usage: ModelUsage;
}

type ToolUse = Extract<ContentBlock, { type: 'tool_use' }>;

/**
 * The agent loop: ask the model, run the tools it asks for, hand back the results, until
 * it answers without asking for a tool. Model failures reject with ModelError; a budget
 * passed or its signal fired rejects with BudgetExceededError, even mid-request.
 */
export async function runTurn(input: TurnInput): Promise<TurnResult> {
  const signal = anySignal(input.signal, input.budget?.signal);
  try {
    return await loop(input, signal);
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw err;
  }
}

async function loop(input: TurnInput, signal: AbortSignal | undefined): Promise<TurnResult> {
  const conversation = [...input.messages];
  const result: TurnResult = { added: [], text: '', toolCalls: 0, usage: emptyUsage() };
  const push = (message: ConversationMessage) => {
    conversation.push(message);
    result.added.push(message);
    input.journal?.step(message);
  };
  let round = 0;
  if (input.resume) {
    for (const m of input.resume.steps) {
      conversation.push(m);
      result.added.push(m);
    }
    round = input.resume.steps.filter((m) => m.role === 'assistant').length;
    const last = input.resume.steps.at(-1);
    if (last?.role === 'assistant') {
      const uses = last.content.filter((b): b is ToolUse => b.type === 'tool_use');
      // The answer was in before the crash: the turn is over.
      if (uses.length === 0) return { ...result, text: textOf(last.content) };
      const overRounds = round - 1 >= input.maxToolRounds;
      push({ role: 'user', content: await runTools(input, uses, overRounds, result, signal) });
    }
  }
  for (let first = true; ; round++, first = false) {
    if (first) input.onFirstRequest?.();
    const response = await ask(input, { ...requestOf(input), messages: conversation }, signal);
    input.onUsage?.(response);
    addUsage(result.usage, response.usage);
    // Every token the request moved, cached ones too: caching must not loosen a run's budget.
    spend(input.budget?.charge('modelTokens', tokensOf(response.usage)));
    push({ role: 'assistant', content: response.content });
    const uses = response.content.filter((b): b is ToolUse => b.type === 'tool_use');
    if (uses.length === 0) return { ...result, text: textOf(response.content) };
    const overRounds = round >= input.maxToolRounds;
    push({ role: 'user', content: await runTools(input, uses, overRounds, result, signal) });
    if (overRounds && round > input.maxToolRounds) {
      return { ...result, text: `(stopped after ${input.maxToolRounds} tool rounds)` };
    }
  }
}

/** One model request, streamed: text deltas go to the caller's sink as they come. */
async function ask(
  input: TurnInput,
  request: ModelRequest,
  signal: AbortSignal | undefined,
): Promise<ModelResponse> {
  for await (const event of input.provider.stream(request, signal)) {
    if (event.type === 'text') input.onEvent?.({ type: 'text', text: event.text });
    if (event.type === 'done') return event.response;
  }
  throw new ModelError(
    'bad_response',
    `The model API (${input.provider.name}) ended its answer without finishing it.`,
  );
}

async function runTools(
  input: TurnInput,
  uses: ToolUse[],
  overRounds: boolean,
  result: TurnResult,
  signal: AbortSignal | undefined,
): Promise<ContentBlock[]> {
  const results: ContentBlock[] = [];
  for (const use of uses) {
    const done = input.resume?.results.find(
      (r) => r.type === 'tool_result' && r.tool_use_id === use.id,
    );
    if (done) {
      results.push(done);
      continue;
    }
    const cut = input.resume?.inFlight === use.id ? input.interrupted?.(use.name) : undefined;
    if (cut) {
      const block: ContentBlock = {
        type: 'tool_result',
        tool_use_id: use.id,
        content: cut.output,
        ...(cut.isError ? { is_error: true } : {}),
      };
      input.journal?.result(block);
      results.push(block);
      continue;
    }
    spend(input.budget?.charge('toolCalls', 1));
    result.toolCalls++;
    input.onEvent?.({ type: 'tool_start', id: use.id, name: use.name });
    const outcome = overRounds
      ? {
          output: `Tool call refused: this turn reached its limit of ${input.maxToolRounds} tool rounds. Answer with what you have.`,
          isError: true,
        }
      : await input.executeTool(use.name, use.input, signal, use.id);
    signal?.throwIfAborted();
    input.onEvent?.({ type: 'tool_end', id: use.id, name: use.name, isError: outcome.isError });
    const block: ContentBlock = {
      type: 'tool_result',
      tool_use_id: use.id,
      content: outcome.output,
      ...(outcome.isError ? { is_error: true } : {}),
    };
    input.journal?.result(block);
    results.push(block);
  }
  return results;
}

function requestOf(input: TurnInput): ModelRequest {
  return {
    system: input.system,
    ...(input.context ? { context: input.context } : {}),
    messages: input.messages,
    tools: input.tools,
    maxTokens: input.maxTokens,
  };
}

function spend(charge: ChargeResult | undefined): void {
  if (charge && !charge.ok) throw new BudgetExceededError(charge.reason);
}

function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

export function emptyUsage(): ModelUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

function tokensOf(u: ModelUsage): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

function addUsage(total: ModelUsage, more: ModelUsage): void {
  total.inputTokens += more.inputTokens;
  total.outputTokens += more.outputTokens;
  total.cacheReadTokens += more.cacheReadTokens;
  total.cacheWriteTokens += more.cacheWriteTokens;
}

function textOf(content: ContentBlock[]): string {
  return content
    .filter((b): b is Extract<ContentBlock, { type: 'text' }> => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
}
