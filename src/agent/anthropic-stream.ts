import type { ContentBlock, ModelEvent, ModelResponse } from './model-provider.js';

/** A stream event that breaks the Messages API's format; the provider reports bad_response. */
export class StreamFormatError extends Error {}

/** An `error` event in the middle of a stream (e.g. overloaded_error). */
export class StreamApiError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

type Usage = ModelResponse['usage'];

/**
 * A streamed Messages API answer put together event by event: text deltas are passed on at
 * once, a tool call once its block ends (its input JSON whole), and `finish()` gives the whole
 * answer with its usage. Every event is the API's untrusted JSON, checked field by field.
 */
export class AnthropicStreamAssembler {
  private started = false;
  private stopped = false;
  private readonly blocks: Array<
    | { type: 'text'; text: string }
    | { type: 'tool_use'; id: string; name: string; json: string }
    | { type: 'other' }
  > = [];
  private stopReason: string | null = null;
  private readonly usage: Record<string, number> = {};

  /** The model events one stream event (`data:` JSON) yields. */
  accept(data: string): ModelEvent[] {
    const e = parseObject(data);
    switch (e.type) {
      case 'message_start': {
        this.started = true;
        const message = asObject(e.message);
        this.addUsage(message.usage);
        return [];
      }
      case 'content_block_start': {
        const index = blockIndex(e.index);
        const block = asObject(e.content_block);
        if (block.type === 'text') {
          this.blocks[index] = {
            type: 'text',
            text: typeof block.text === 'string' ? block.text : '',
          };
        } else if (block.type === 'tool_use') {
          if (typeof block.id !== 'string' || typeof block.name !== 'string') {
            throw new StreamFormatError('a tool_use block without an id or a name');
          }
          this.blocks[index] = { type: 'tool_use', id: block.id, name: block.name, json: '' };
        } else {
          this.blocks[index] = { type: 'other' };
        }
        return [];
      }
      case 'content_block_delta': {
        const block = this.blocks[blockIndex(e.index)];
        const delta = asObject(e.delta);
        if (delta.type === 'text_delta' && block?.type === 'text') {
          const text = typeof delta.text === 'string' ? delta.text : '';
          block.text += text;
          return text ? [{ type: 'text', text }] : [];
        }
        if (delta.type === 'input_json_delta' && block?.type === 'tool_use') {
          block.json += typeof delta.partial_json === 'string' ? delta.partial_json : '';
        }
        return [];
      }
      case 'content_block_stop': {
        const block = this.blocks[blockIndex(e.index)];
        if (block?.type !== 'tool_use') return [];
        const call = toolUse(block);
        return [{ type: 'tool_call', id: call.id, name: call.name, input: call.input }];
      }
      case 'message_delta': {
        const delta = asObject(e.delta);
        if (typeof delta.stop_reason === 'string') this.stopReason = delta.stop_reason;
        this.addUsage(e.usage);
        return [];
      }
      case 'message_stop':
        this.stopped = true;
        return [];
      case 'error': {
        const error = asObject(e.error);
        const type = typeof error.type === 'string' ? error.type : 'api_error';
        const message = typeof error.message === 'string' ? error.message.slice(0, 500) : type;
        throw new StreamApiError(type, message);
      }
      default:
        // ping and event types added later: nothing to do.
        return [];
    }
  }

  /** The whole answer, once the stream has ended. */
  finish(): ModelResponse {
    if (!this.started || !this.stopped) {
      throw new StreamFormatError('the stream ended before the message was complete');
    }
    const content: ContentBlock[] = [];
    for (const block of this.blocks) {
      if (block?.type === 'text') content.push({ type: 'text', text: block.text });
      else if (block?.type === 'tool_use') content.push(toolUse(block));
    }
    return { content, stopReason: toStopReason(this.stopReason), usage: this.usageOf() };
  }

  private addUsage(raw: unknown): void {
    if (!raw || typeof raw !== 'object') return;
    for (const [key, value] of Object.entries(raw)) {
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
        this.usage[key] = Math.floor(value);
      }
    }
  }

  private usageOf(): Usage {
    const n = (key: string) => this.usage[key] ?? 0;
    return {
      inputTokens: n('input_tokens'),
      outputTokens: n('output_tokens'),
      cacheReadTokens: n('cache_read_input_tokens'),
      cacheWriteTokens: n('cache_creation_input_tokens'),
    };
  }
}

function toolUse(block: { id: string; name: string; json: string }): ContentBlock & {
  type: 'tool_use';
} {
  let input: unknown = {};
  if (block.json.trim() !== '') {
    try {
      input = JSON.parse(block.json);
    } catch (cause) {
      throw new StreamFormatError(`the input of tool call ${block.name} is not JSON`, { cause });
    }
  }
  const object =
    input && typeof input === 'object' && !Array.isArray(input)
      ? (input as Record<string, unknown>)
      : {};
  return { type: 'tool_use', id: block.id, name: block.name, input: object };
}

function parseObject(data: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (cause) {
    throw new StreamFormatError(`a stream event is not JSON: ${data.slice(0, 80)}`, { cause });
  }
  return asObject(parsed);
}

function asObject(value: unknown): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  throw new StreamFormatError('a stream event field is not an object');
}

/** Content blocks are few: an index past this is a broken stream, not an array to grow. */
const MAX_BLOCKS = 1024;

function blockIndex(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < MAX_BLOCKS) {
    return value;
  }
  throw new StreamFormatError(`a content block index out of range: ${String(value).slice(0, 20)}`);
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
