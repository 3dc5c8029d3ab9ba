export interface CacheUsage {
  input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** See prompt-cache.mjs: a deterministic model of Anthropic's prompt cache. */
export class PromptCache {
  constructor(options?: { minTokens?: number });
  readonly minTokens: number;
  clear(): void;
  account(body: unknown): CacheUsage;
}
