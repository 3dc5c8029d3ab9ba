import Anthropic from '@anthropic-ai/sdk';
import {
  ModelError,
  type ContentBlock,
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
}

/**
 * Anthropic Messages API over streaming. Retries (429, 5xx, 529, connection drops) are
 * the SDK's: exponential backoff with jitter that honours the server's retry-after.
 */
export class AnthropicProvider implements ModelProvider {
  readonly name = 'anthropic';
  private readonly client: Anthropic | undefined;

  constructor(private readonly options: AnthropicOptions) {
    this.client = options.apiKey
      ? new Anthropic({
          apiKey: options.apiKey,
          baseURL: options.baseUrl,
          timeout: options.timeoutMs,
          maxRetries: options.maxRetries,
        })
      : undefined;
  }

  async complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelResponse> {
    const client = this.requireClient();
    try {
      const stream = client.messages.stream(
        {
          model: this.options.model,
          max_tokens: request.maxTokens,
          system: request.system,
          messages: request.messages as Anthropic.MessageParam[],
          tools: request.tools as Anthropic.Tool[],
        },
        { signal },
      );
      const message = await stream.finalMessage();
      return {
        content: message.content.flatMap(toBlock),
        stopReason: toStopReason(message.stop_reason),
        usage: {
          inputTokens: message.usage.input_tokens,
          outputTokens: message.usage.output_tokens,
        },
      };
    } catch (cause) {
      throw toModelError(cause, this.options);
    }
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    if (!this.client) return { ok: false, detail: 'ANTHROPIC_API_KEY is not set' };
    try {
      const page = await this.client.models.list({ limit: 1 }, { timeout: 5000, maxRetries: 0 });
      return {
        ok: true,
        detail: `${this.options.baseUrl} answers (${page.data.length} model listed)`,
      };
    } catch (cause) {
      return { ok: false, detail: toModelError(cause, this.options).message };
    }
  }

  private requireClient(): Anthropic {
    if (!this.client) {
      throw new ModelError(
        'no_api_key',
        'ANTHROPIC_API_KEY is not set. Export it (export ANTHROPIC_API_KEY=sk-ant-...) and try again.',
      );
    }
    return this.client;
  }
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

function toModelError(cause: unknown, options: AnthropicOptions): ModelError {
  if (cause instanceof ModelError) return cause;
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
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ModelError('connection', `The model request failed: ${message}`, { cause });
}
