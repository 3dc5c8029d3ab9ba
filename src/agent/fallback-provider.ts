import {
  ModelError,
  type ModelErrorKind,
  type ModelEvent,
  type ModelProvider,
  type ModelRequest,
} from './model-provider.js';

/** Failures that mean "this model is down now", not "this request is wrong". */
const DOWN: ReadonlySet<ModelErrorKind> = new Set([
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'connection',
]);

/**
 * The primary model, and the fallback when the primary is down: it failed with a retryable
 * error after its own retries, before it sent anything. An answer that broke off half-way is
 * not re-asked of another model (the user has seen part of it); nor is a refused request.
 */
export class FallbackProvider implements ModelProvider {
  readonly name: string;

  constructor(
    private readonly primary: ModelProvider,
    private readonly fallback: ModelProvider,
    private readonly onFallback: (error: ModelError) => void = () => {},
  ) {
    this.name = primary.name;
  }

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncGenerator<ModelEvent> {
    let started = false;
    try {
      for await (const event of this.primary.stream(request, signal)) {
        started = true;
        yield event;
      }
      return;
    } catch (error) {
      const down = error instanceof ModelError && DOWN.has(error.kind);
      if (started || !down || signal?.aborted) throw error;
      this.onFallback(error);
    }
    yield* this.fallback.stream(request, signal);
  }

  async check(): Promise<{ ok: boolean; detail: string }> {
    const [primary, fallback] = await Promise.all([this.primary.check(), this.fallback.check()]);
    return {
      ok: primary.ok || fallback.ok,
      detail: `${primary.detail}; fallback: ${fallback.detail}`,
    };
  }
}
