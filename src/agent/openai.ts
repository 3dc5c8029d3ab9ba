import type OpenAI from 'openai';
import {
  ModelError,
  type ModelEvent,
  type ModelProvider,
  type ModelRequest,
} from './model-provider.js';
import { ChunkAssembler, toChatMessages, toChatTools } from './openai-messages.js';

export interface OpenAIOptions {
  /** Optional: local servers (Ollama, vLLM, LM Studio) need none. */
  apiKey: string | undefined;
  /** Up to and including the version, e.g. http://127.0.0.1:11434/v1. */
  baseUrl: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
}

/**
 * An OpenAI-compatible Chat Completions API (OpenAI, OpenRouter, Ollama, vLLM, LM Studio),
 * streamed. Retries (408, 409, 429, 5xx, connection drops) are the SDK's: exponential
 * backoff with jitter that honours the server's retry-after.
 */
export class OpenAIProvider implements ModelProvider {
  readonly name = 'openai';
  /** Loaded on first use, like the Anthropic SDK: most commands never call a model. */
  private sdk: Promise<SdkModule> | undefined;
  private client: OpenAI | undefined;

  constructor(private readonly options: OpenAIOptions) {}

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncGenerator<ModelEvent> {
    const sdk = await this.loadSdk();
    const client = await this.requireClient();
    const answer = new ChunkAssembler();
    try {
      const stream = await client.chat.completions.create(
        {
          model: this.options.model,
          max_tokens: request.maxTokens,
          messages: toChatMessages(request),
          ...(request.tools.length > 0 ? { tools: toChatTools(request) } : {}),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal },
      );
      for await (const chunk of stream) {
        const text = answer.add(chunk);
        if (text !== '') yield { type: 'text', text };
      }
      // The SDK ends an aborted stream quietly; the caller must still learn it was stopped.
      if (signal?.aborted) throw new sdk.APIUserAbortError();
      const response = answer.response();
      for (const block of response.content) {
        if (block.type === 'tool_use') {
          yield { type: 'tool_call', id: block.id, name: block.name, input: block.input };
        }
      }
      yield { type: 'done', response: { ...response, model: this.options.model } };
    } catch (cause) {
      throw toModelError(sdk, cause, this.options, signal);
    }
  }

  /**
   * The models list when the server has one (and whether it names our model); otherwise one
   * minimal request with one tool, which also finds a model that cannot call tools.
   */
  async check(): Promise<{ ok: boolean; detail: string }> {
    const sdk = await this.loadSdk();
    const client = await this.requireClient();
    const quick = { timeout: Math.min(this.options.timeoutMs, 10_000), maxRetries: 0 };
    const { model, baseUrl } = this.options;
    try {
      const ids: string[] = [];
      for await (const m of client.models.list(quick)) {
        ids.push(m.id);
        if (ids.length >= 1000) break;
      }
      if (ids.length === 0 || ids.includes(model)) {
        return { ok: true, detail: `${baseUrl} answers; it lists ${ids.length} model(s)` };
      }
      const some = ids.slice(0, 5).join(', ');
      return {
        ok: false,
        detail: `${baseUrl} answers but does not list the model ${model} (it has ${some}${ids.length > 5 ? ', ...' : ''}). Set NANOCELL_MODEL to one of them.`,
      };
    } catch (cause) {
      if (!(cause instanceof sdk.NotFoundError)) {
        return { ok: false, detail: toModelError(sdk, cause, this.options).message };
      }
    }
    try {
      await client.chat.completions.create(
        {
          model,
          max_tokens: 1,
          messages: [{ role: 'user', content: 'Reply with one word.' }],
          tools: [
            {
              type: 'function',
              function: {
                name: 'noop',
                description: 'Does nothing.',
                parameters: { type: 'object', properties: {} },
              },
            },
          ],
        },
        quick,
      );
      return { ok: true, detail: `${baseUrl} answers a one-token request with tools` };
    } catch (cause) {
      return { ok: false, detail: toModelError(sdk, cause, this.options).message };
    }
  }

  private loadSdk(): Promise<SdkModule> {
    this.sdk ??= import('openai');
    return this.sdk;
  }

  private async requireClient(): Promise<OpenAI> {
    if (!this.client) {
      const { default: OpenAIClient } = await this.loadSdk();
      const key = this.options.apiKey;
      // Every option is given, so the SDK reads nothing from process.env (config does that).
      this.client = new OpenAIClient({
        // The SDK insists on a key; without one its header is removed below.
        apiKey: key ?? 'none',
        adminAPIKey: null,
        organization: null,
        project: null,
        webhookSecret: null,
        baseURL: this.options.baseUrl,
        timeout: this.options.timeoutMs,
        maxRetries: this.options.maxRetries,
        // Without a key no Authorization header is sent at all (a local server needs none).
        ...(key === undefined ? { defaultHeaders: { authorization: null } } : {}),
        // A malformed chunk is reported as a ModelError, not printed on the host's stderr.
        logLevel: 'off',
      });
    }
    return this.client;
  }
}

type SdkModule = typeof import('openai');

/** What servers say when the model cannot call tools (Ollama, vLLM, LM Studio wordings). */
const NO_TOOLS =
  /does not support tools|tools? (?:are|is) not supported|does not support (?:function|tool)|tool choice requires|tool[_ ]?calls? (?:are |is )?not supported/i;

function toModelError(
  sdk: SdkModule,
  cause: unknown,
  options: OpenAIOptions,
  signal?: AbortSignal,
): ModelError {
  if (cause instanceof ModelError) return cause;
  if (signal?.aborted || cause instanceof sdk.APIUserAbortError) {
    return new ModelError('aborted', 'The model request was stopped before it finished.', {
      cause,
    });
  }
  const where = options.baseUrl;
  const retries = `after ${options.maxRetries} retries`;
  if (cause instanceof sdk.APIConnectionTimeoutError) {
    return new ModelError(
      'timeout',
      `The model API at ${where} did not answer within ${options.timeoutMs} ms (${retries}).`,
      { cause },
    );
  }
  if (cause instanceof sdk.APIConnectionError) {
    return new ModelError(
      'connection',
      `Cannot reach the model API at ${where} (${retries}). Check OPENAI_BASE_URL and that the server runs.`,
      { cause },
    );
  }
  if (cause instanceof sdk.APIError) {
    const status = cause.status;
    const said = serverMessage(cause);
    if (status === 401 || status === 403) {
      return new ModelError(
        'auth',
        `The model API at ${where} rejected the API key (HTTP ${status}). Check OPENAI_API_KEY.`,
        { cause },
      );
    }
    if (status === 429) {
      return new ModelError(
        'rate_limit',
        `The model API is rate-limiting us (HTTP 429) and still was ${retries}. Try again in a minute.`,
        { cause },
      );
    }
    if (status !== undefined && status >= 500) {
      return new ModelError(
        'server',
        `The model API at ${where} failed (HTTP ${status}) ${retries}. Try again shortly.`,
        { cause },
      );
    }
    if (NO_TOOLS.test(said)) {
      return new ModelError(
        'model_config',
        `The model ${options.model} does not support tool calls, and nanocell needs them. Choose a model that does (for example llama3.1 or qwen2.5 on Ollama) with NANOCELL_MODEL or \`groups set NAME --model M\`.`,
        { cause },
      );
    }
    if (status === 404) {
      return new ModelError(
        'model_config',
        `The model API at ${where} does not know the model ${options.model} (HTTP 404): ${said}. Check NANOCELL_MODEL and OPENAI_BASE_URL (it usually ends in /v1).`,
        { cause },
      );
    }
    if (status === undefined) {
      // An error object inside the stream: the server gave up half-way.
      return new ModelError('server', `The model API at ${where} failed mid-answer: ${said}`, {
        cause,
      });
    }
    return new ModelError(
      'bad_request',
      `The model API refused the request (HTTP ${status}): ${said}`,
      { cause },
    );
  }
  if (cause instanceof SyntaxError || cause instanceof sdk.OpenAIError) {
    return new ModelError(
      'bad_response',
      `The model API at ${where} sent an answer that does not parse: ${cause.message}`,
      { cause },
    );
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ModelError('connection', `The model request failed: ${message}`, { cause });
}

/** The server's own words, bounded: it is untrusted text that ends up in a chat. */
function serverMessage(error: { error?: unknown; message: string }): string {
  const body = error.error as { message?: unknown } | undefined;
  const raw = typeof body?.message === 'string' ? body.message : error.message;
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const text = raw.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
