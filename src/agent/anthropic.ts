import type http from 'node:http';
import { anthropicPrompt } from './anthropic-prompt.js';
import { AnthropicStreamAssembler, StreamApiError, StreamFormatError } from './anthropic-stream.js';
import {
  ApiAbortError,
  ApiConnectionError,
  ApiHttp,
  ApiStatusError,
  ApiTimeoutError,
} from './api-http.js';
import {
  ModelError,
  type ModelEvent,
  type ModelProvider,
  type ModelRequest,
} from './model-provider.js';
import { readSse, SseFormatError } from './sse-reader.js';

export interface AnthropicOptions {
  apiKey: string | undefined;
  baseUrl: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  /** Mark the prompt for Anthropic's prompt cache (NANOCELL_PROMPT_CACHE); on unless false. */
  promptCache?: boolean;
}

const API_VERSION = '2023-06-01';
/** One stream event and one whole answer, at most: the API's answer is untrusted bytes. */
const SSE_LIMITS = { maxEventBytes: 8 * 1024 * 1024, maxTotalBytes: 64 * 1024 * 1024 };
const MAX_CHECK_BYTES = 256 * 1024;

/**
 * Anthropic Messages API over streaming, on plain `node:http` (src/agent/api-http.ts): the
 * SDK's fetch and web-streams pipeline cost about a millisecond more per request, twice per
 * tool turn (issue 17). Retries (429, 5xx, 529, connection drops) back off with jitter and
 * honour the server's retry-after.
 */
export class AnthropicProvider implements ModelProvider {
  readonly name = 'anthropic';
  private http: ApiHttp | undefined;

  constructor(private readonly options: AnthropicOptions) {}

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncGenerator<ModelEvent> {
    const api = this.requireHttp();
    try {
      const prompt = anthropicPrompt(request, this.options.promptCache !== false);
      const res = await api.open(
        'POST',
        '/v1/messages',
        { model: this.options.model, max_tokens: request.maxTokens, stream: true, ...prompt },
        signal,
      );
      const message = new AnthropicStreamAssembler();
      for await (const { data } of readSse(res as AsyncIterable<Buffer>, SSE_LIMITS)) {
        yield* message.accept(data);
      }
      yield { type: 'done', response: { ...message.finish(), model: this.options.model } };
    } catch (cause) {
      throw toModelError(cause, this.options, signal);
    }
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    if (!this.options.apiKey) return { ok: false, detail: 'ANTHROPIC_API_KEY is not set' };
    try {
      const res = await this.requireHttp().open('GET', '/v1/models?limit=1', undefined, undefined, {
        timeoutMs: 5000,
        maxRetries: 0,
      });
      const page = JSON.parse(await readText(res, MAX_CHECK_BYTES)) as { data?: unknown };
      const listed = Array.isArray(page.data) ? page.data.length : 0;
      return { ok: true, detail: `${this.options.baseUrl} answers (${listed} model listed)` };
    } catch (cause) {
      return { ok: false, detail: toModelError(cause, this.options).message };
    }
  }

  private requireHttp(): ApiHttp {
    if (!this.options.apiKey) {
      throw new ModelError(
        'no_api_key',
        'ANTHROPIC_API_KEY is not set. Export it (export ANTHROPIC_API_KEY=sk-ant-...) and try again.',
      );
    }
    this.http ??= new ApiHttp({
      baseUrl: this.options.baseUrl,
      headers: { 'x-api-key': this.options.apiKey, 'anthropic-version': API_VERSION },
      timeoutMs: this.options.timeoutMs,
      maxRetries: this.options.maxRetries,
    });
    return this.http;
  }
}

async function readText(res: http.IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      res.destroy();
      throw new SseFormatError(`the answer is longer than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function toModelError(cause: unknown, options: AnthropicOptions, signal?: AbortSignal): ModelError {
  if (cause instanceof ModelError) return cause;
  if (signal?.aborted || cause instanceof ApiAbortError) {
    return new ModelError('aborted', 'The model request was stopped before it finished.', {
      cause,
    });
  }
  const where = options.baseUrl;
  if (cause instanceof ApiTimeoutError) {
    return new ModelError(
      'timeout',
      `The model API at ${where} did not answer within ${options.timeoutMs} ms (after ${options.maxRetries} retries).`,
      { cause },
    );
  }
  if (cause instanceof ApiConnectionError) {
    return new ModelError(
      'connection',
      `Cannot reach the model API at ${where} (after ${options.maxRetries} retries). Check ANTHROPIC_BASE_URL and the network.`,
      { cause },
    );
  }
  if (cause instanceof StreamApiError) {
    const kind = cause.errorType === 'overloaded_error' ? 'overloaded' : 'server';
    return new ModelError(kind, `The model API failed while answering: ${cause.message}`, {
      cause,
    });
  }
  if (cause instanceof ApiStatusError) {
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
    if (status >= 500) {
      return new ModelError(
        'server',
        `The model API failed (HTTP ${status}) after ${options.maxRetries} retries. Try again shortly.`,
        { cause },
      );
    }
    return new ModelError(
      'bad_request',
      `The model API refused the request (HTTP ${status}): ${cause.message}`,
      { cause },
    );
  }
  if (
    cause instanceof SyntaxError ||
    cause instanceof StreamFormatError ||
    cause instanceof SseFormatError
  ) {
    return new ModelError(
      'bad_response',
      `The model API at ${where} sent an answer that does not parse: ${cause.message}`,
      { cause },
    );
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ModelError('connection', `The model request failed: ${message}`, { cause });
}
