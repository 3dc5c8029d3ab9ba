import {
  ModelError,
  type ModelEvent,
  type ModelProvider,
  type ModelRequest,
} from '../../src/agent/model-provider.js';
import type { HangStep, RecordedRequest, ReplyBuilder } from './fake-model-server.js';

/** One scripted answer: a reply (`reply().text().tool()`), a `hang()`, or a ModelError to throw. */
export type FakeStep = ReplyBuilder | HangStep | ModelError;

/**
 * An in-process ModelProvider that answers from a script, streaming each reply as text
 * deltas and tool calls the way a real provider does. `hang()` never answers: it ends only
 * when the caller's signal fires (then with kind `aborted`, as the contract says).
 */
export class FakeModelProvider implements ModelProvider {
  readonly name = 'fake';
  readonly requests: ModelRequest[] = [];
  private readonly script: FakeStep[];

  /** `onRequest` is told of each request as it arrives, before it is answered. */
  constructor(
    script: FakeStep[] = [],
    private readonly onRequest?: (request: ModelRequest) => void,
  ) {
    this.script = [...script];
  }

  enqueue(...steps: FakeStep[]): void {
    this.script.push(...steps);
  }

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncGenerator<ModelEvent> {
    this.requests.push(structuredClone(request));
    this.onRequest?.(request);
    const step = this.script.shift();
    if (!step) throw new ModelError('server', 'fake model provider: script exhausted');
    if (step instanceof ModelError) throw step;
    if (step.kind === 'hang') {
      await abortOf(signal);
      throw new ModelError('aborted', 'The model request was stopped before it finished.');
    }
    const message = step.toMessage(asRecorded(request));
    for (const block of message.content) {
      if (block.type === 'text') {
        // Two deltas per block: callers must join them, not take the first.
        const half = Math.ceil(block.text.length / 2);
        yield { type: 'text', text: block.text.slice(0, half) };
        yield { type: 'text', text: block.text.slice(half) };
      } else {
        yield { type: 'tool_call', id: block.id, name: block.name, input: block.input };
      }
    }
    yield {
      type: 'done',
      response: {
        content: message.content,
        stopReason: message.stop_reason === 'tool_use' ? 'tool_use' : 'end_turn',
        usage: {
          inputTokens: message.usage.input_tokens,
          outputTokens: message.usage.output_tokens,
          cacheReadTokens: message.usage.cache_read_input_tokens ?? 0,
          cacheWriteTokens: message.usage.cache_creation_input_tokens ?? 0,
        },
        model: 'fake-model',
      },
    };
  }

  check(): Promise<{ ok: boolean; detail: string }> {
    return Promise.resolve({ ok: true, detail: 'fake model provider' });
  }
}

function abortOf(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

function asRecorded(request: ModelRequest): RecordedRequest {
  return {
    method: 'POST',
    path: '/v1/messages',
    headers: {},
    body: request as unknown as RecordedRequest['body'],
    receivedAt: Date.now(),
  };
}
