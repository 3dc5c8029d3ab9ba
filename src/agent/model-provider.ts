/** The conversation format shared by every provider: the Messages API's content blocks. */
export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean };

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
  messages: ConversationMessage[];
  tools: ToolDefinition[];
  maxTokens: number;
}

export interface ModelResponse {
  content: ContentBlock[];
  stopReason: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'other';
  usage: { inputTokens: number; outputTokens: number };
}

export type ModelErrorKind =
  | 'no_api_key'
  | 'auth'
  | 'rate_limit'
  | 'overloaded'
  | 'server'
  | 'timeout'
  | 'connection'
  | 'bad_request';

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
 * A language model API. `complete` retries what is retryable (rate limits, overload,
 * server errors, dropped connections) with backoff before giving up; when it gives up it
 * rejects with a ModelError, and with nothing else.
 */
export interface ModelProvider {
  readonly name: string;
  complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelResponse>;
  /** A cheap reachability check for `doctor`; never throws. */
  check(): Promise<{ ok: boolean; detail: string }>;
}
