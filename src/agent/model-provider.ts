/** The conversation format shared by every provider: the Messages API's content blocks. */
export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean }
  | ImageBlock;

/** The image types every provider takes (see src/media/image-check.ts). */
export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** An image in a user turn, as base64 (the Messages API's own form). */
export interface ImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: ImageMediaType; data: string };
}

export interface ConversationMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ToolDefinition {
  name: string;
  description: string;
  input_schema: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
}

export interface ModelRequest {
  system: string;
  /**
   * What holds for this turn only (the current time). Kept out of `system` so the prompt's
   * start stays the same from turn to turn and can be cached; each provider places it.
   */
  context?: string;
  messages: ConversationMessage[];
  tools: ToolDefinition[];
  maxTokens: number;
}

/** Tokens one model request used; the cache counts are 0 where a provider has no cache. */
export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface ModelResponse {
  content: ContentBlock[];
  stopReason: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'other';
  usage: ModelUsage;
  /** The model that answered, as configured (a fallback's own name when it answered). */
  model?: string;
}

/**
 * What a streamed response yields, in order: text deltas and tool calls as they come (a tool
 * call once its input is complete), then exactly one `done` with the whole response.
 */
export type ModelEvent =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'done'; response: ModelResponse };

export type ModelErrorKind =
  | 'no_api_key'
  | 'auth'
  | 'rate_limit'
  | 'overloaded'
  | 'server'
  | 'timeout'
  | 'connection'
  | 'bad_request'
  /** The configured model cannot serve nanocell (unknown, or no tool calls): fix the settings. */
  | 'model_config'
  /** The answer did not parse (a malformed chunk, a tool input that is not JSON). */
  | 'bad_response'
  /** The caller's signal fired (the run's budget or a shutdown). */
  | 'aborted';

/** The model could not be used; `message` is written for the person in the chat. */
export class ModelError extends Error {
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelError';
  }
}

/**
 * A language model API, streamed. `stream` retries what is retryable (rate limits, overload,
 * server errors, dropped connections) with backoff before the first event; when it gives up,
 * or the answer breaks off or does not parse, the iteration throws a ModelError and nothing
 * else. A fired `signal` ends it at once with kind `aborted`, even in a request that hangs.
 */
export interface ModelProvider {
  readonly name: string;
  stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelEvent>;
  /** A cheap reachability check for `doctor`; never throws. */
  check(): Promise<{ ok: boolean; detail: string }>;
}

/** The whole response of a streamed request, for callers that show nothing as it comes. */
export async function complete(
  provider: ModelProvider,
  request: ModelRequest,
  signal?: AbortSignal,
): Promise<ModelResponse> {
  for await (const event of provider.stream(request, signal)) {
    if (event.type === 'done') return event.response;
  }
  throw new ModelError('bad_response', `The model API (${provider.name}) ended without an answer.`);
}
