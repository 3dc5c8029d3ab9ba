import type Anthropic from '@anthropic-ai/sdk';
import { anthropicPrompt } from './anthropic-prompt.js';
import {
  ModelError,
  type ContentBlock,
  type ModelEvent,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
} from './model-provider.js';

export interface AnthropicOptions {
  apiKey: string | undefined;
  baseUrl: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  /** Mark the prompt for Anthropic's prompt cache (NANOCELL_PROMPT_CACHE); on unless false. */
  promptCache?: boolean;
}

/**
 * Anthropic Messages API over streaming. Retries (429, 5xx, 529, connection drops) are
 * the SDK's: exponential backoff with jitter that honours the server's retry-after.
 */
export class AnthropicProvider implements ModelProvider {
  readonly name = 'anthropic';
  /**
   * The SDK is loaded on first use: it is about a quarter of an idle host's memory, and
   * commands that never call the model (groups, tasks, status, audit) need none of it.
   */
  private sdk: Promise<SdkModule> | undefined;
  private client: Anthropic | undefined;

  constructor(private readonly options: AnthropicOptions) {}

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncGenerator<ModelEvent> {
    const client = await this.requireClient();
    const sdk = await this.loadSdk();
    try {
      const prompt = anthropicPrompt(request, this.options.promptCache !== false);
      const stream = client.messages.stream(
        { model: this.options.model, max_tokens: request.maxTokens, ...prompt },
        { signal },
      );
      for await (const event of stream) {
        const out = toEvent(event, stream.currentMessage);
        if (out) yield out;
      }
      const response = toResponse(await stream.finalMessage());
      yield { type: 'done', response: { ...response, model: this.options.model } };
    } catch (cause) {
      throw toModelError(sdk, cause, this.options, signal);
    }
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    if (!this.options.apiKey) return { ok: false, detail: 'ANTHROPIC_API_KEY is not set' };
    const client = await this.requireClient();
    const sdk = await this.loadSdk();
    try {
      const page = await client.models.list({ limit: 1 }, { timeout: 5000, maxRetries: 0 });
      return {
        ok: true,
        detail: `${this.options.baseUrl} answers (${page.data.length} model listed)`,
      };
    } catch (cause) {
      return { ok: false, detail: toModelError(sdk, cause, this.options).message };
    }
  }

  private loadSdk(): Promise<SdkModule> {
    this.sdk ??= import('@anthropic-ai/sdk');
    return this.sdk;
  }

  private async requireClient(): Promise<Anthropic> {
    if (!this.options.apiKey) {
      throw new ModelError(
        'no_api_key',
        'ANTHROPIC_API_KEY is not set. Export it (export ANTHROPIC_API_KEY=sk-ant-...) and try again.',
      );
    }
    if (!this.client) {
      const { default: AnthropicClient } = await this.loadSdk();
      this.client = new AnthropicClient({
        apiKey: this.options.apiKey,
        baseURL: this.options.baseUrl,
        timeout: this.options.timeoutMs,
        maxRetries: this.options.maxRetries,
        // A malformed chunk is reported as a ModelError, not printed on the host's stderr.
        logLevel: 'off',
      });
    }
    return this.client;
  }
}

type SdkModule = typeof import('@anthropic-ai/sdk');

/** A text delta as it comes; a tool call once its block is complete. */
function toEvent(
  event: Anthropic.MessageStreamEvent,
  snapshot: Anthropic.Message | undefined,
): ModelEvent | undefined {
  if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
    return { type: 'text', text: event.delta.text };
  }
  if (event.type !== 'content_block_stop') return undefined;
  const block = snapshot?.content[event.index];
  const call = block ? toBlock(block)[0] : undefined;
  return call?.type === 'tool_use' ? { type: 'tool_call', ...withoutType(call) } : undefined;
}

function withoutType<T extends { type: string }>(block: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = block;
  return rest;
}

function toResponse(message: Anthropic.Message): ModelResponse {
  return {
    content: message.content.flatMap(toBlock),
    stopReason: toStopReason(message.stop_reason),
    usage: {
      inputTokens: count(message.usage?.input_tokens),
      outputTokens: count(message.usage?.output_tokens),
      cacheReadTokens: count(message.usage?.cache_read_input_tokens),
      cacheWriteTokens: count(message.usage?.cache_creation_input_tokens),
    },
  };
}

/** A token count from the API (untrusted): a whole number ≥ 0, else 0. */
function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function toBlock(block: Anthropic.ContentBlock): ContentBlock[] {
  if (block.type === 'text') return [{ type: 'text', text: block.text }];
  if (block.type === 'tool_use') {
    const input =
      block.input && typeof block.input === 'object'
        ? (block.input as Record<string, unknown>)
        : {};
    return [{ type: 'tool_use', id: block.id, name: block.name, input }];
  }
  return [];
}

function toStopReason(reason: string | null): ModelResponse['stopReason'] {
  switch (reason) {
    case 'end_turn':
    case 'tool_use':
    case 'max_tokens':
    case 'stop_sequence':
      return reason;
    default:
      return 'other';
  }
}

function toModelError(
  sdk: SdkModule,
  cause: unknown,
  options: AnthropicOptions,
  signal?: AbortSignal,
): ModelError {
  const Anthropic = sdk.default;
  if (cause instanceof ModelError) return cause;
  if (signal?.aborted || cause instanceof Anthropic.APIUserAbortError) {
    return new ModelError('aborted', 'The model request was stopped before it finished.', {
      cause,
    });
  }
  const where = options.baseUrl;
  if (cause instanceof Anthropic.APIConnectionTimeoutError) {
    return new ModelError(
      'timeout',
      `The model API at ${where} did not answer within ${options.timeoutMs} ms (after ${options.maxRetries} retries).`,
      { cause },
    );
  }
  if (cause instanceof Anthropic.APIConnectionError) {
    return new ModelError(
      'connection',
      `Cannot reach the model API at ${where} (after ${options.maxRetries} retries). Check ANTHROPIC_BASE_URL and the network.`,
      { cause },
    );
  }
  if (cause instanceof Anthropic.APIError) {
    const status = cause.status;
    if (status === 401 || status === 403) {
      return new ModelError(
        'auth',
        `The model API rejected the API key (HTTP ${status}). Check ANTHROPIC_API_KEY.`,
        { cause },
      );
    }
    if (status === 429) {
      return new ModelError(
        'rate_limit',
        `The model API is rate-limiting us (HTTP 429) and still was after ${options.maxRetries} retries. Try again in a minute.`,
        { cause },
      );
    }
    if (status === 529) {
      return new ModelError(
        'overloaded',
        `The model API is overloaded (HTTP 529) after ${options.maxRetries} retries. Try again shortly.`,
        { cause },
      );
    }
    if (status !== undefined && status >= 500) {
      return new ModelError(
        'server',
        `The model API failed (HTTP ${status}) after ${options.maxRetries} retries. Try again shortly.`,
        { cause },
      );
    }
    return new ModelError(
      'bad_request',
      `The model API refused the request (HTTP ${status ?? '?'}): ${cause.message}`,
      { cause },
    );
  }
  if (cause instanceof SyntaxError || cause instanceof Anthropic.AnthropicError) {
    return new ModelError(
      'bad_response',
      `The model API at ${where} sent an answer that does not parse: ${cause.message}`,
      { cause },
    );
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ModelError('connection', `The model request failed: ${message}`, { cause });
}
