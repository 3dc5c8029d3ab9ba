import { describe, expect, it } from 'vitest';
import { AnthropicStreamAssembler, StreamApiError, StreamFormatError } from './anthropic-stream.js';

const ev = (o: unknown) => JSON.stringify(o);

describe('AnthropicStreamAssembler', () => {
  it('passes text on as it comes and a tool call once its input is whole, with the usage', () => {
    const a = new AnthropicStreamAssembler();
    const out = [
      ev({
        type: 'message_start',
        message: { usage: { input_tokens: 12, cache_read_input_tokens: 3 } },
      }),
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } }),
      ev({ type: 'content_block_stop', index: 0 }),
      ev({
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 't1', name: 'bash', input: {} },
      }),
      ev({
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{"comm' },
      }),
      ev({
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: 'and":"ls"}' },
      }),
      ev({ type: 'ping' }),
      ev({ type: 'content_block_stop', index: 1 }),
      ev({
        type: 'message_delta',
        delta: { stop_reason: 'tool_use' },
        usage: { output_tokens: 7 },
      }),
      ev({ type: 'message_stop' }),
    ].flatMap((d) => a.accept(d));
    expect(out).toEqual([
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
      { type: 'tool_call', id: 't1', name: 'bash', input: { command: 'ls' } },
    ]);
    expect(a.finish()).toEqual({
      content: [
        { type: 'text', text: 'Hello' },
        { type: 'tool_use', id: 't1', name: 'bash', input: { command: 'ls' } },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 12, outputTokens: 7, cacheReadTokens: 3, cacheWriteTokens: 0 },
    });
  });

  it('refuses a stream that ends before message_stop', () => {
    const a = new AnthropicStreamAssembler();
    a.accept(ev({ type: 'message_start', message: {} }));
    expect(() => a.finish()).toThrow(StreamFormatError);
  });

  it('refuses tool input that is not JSON, events that are not objects, and wild indexes', () => {
    const a = new AnthropicStreamAssembler();
    a.accept(
      ev({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'x', name: 'bash' },
      }),
    );
    a.accept(
      ev({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"a"' },
      }),
    );
    expect(() => a.accept(ev({ type: 'content_block_stop', index: 0 }))).toThrow(/not JSON/);
    expect(() => a.accept('[1,2]')).toThrow(StreamFormatError);
    expect(() => a.accept('{"type":')).toThrow(StreamFormatError);
    expect(() =>
      a.accept(ev({ type: 'content_block_start', index: 1e9, content_block: { type: 'text' } })),
    ).toThrow(/out of range/);
  });

  it('turns an error event into a StreamApiError with its type', () => {
    const a = new AnthropicStreamAssembler();
    const error = (() => {
      try {
        a.accept(ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StreamApiError);
    expect((error as StreamApiError).errorType).toBe('overloaded_error');
  });

  it('counts only whole, non-negative token numbers', () => {
    const a = new AnthropicStreamAssembler();
    a.accept(
      ev({
        type: 'message_start',
        message: { usage: { input_tokens: -5, output_tokens: 'many' } },
      }),
    );
    a.accept(
      ev({ type: 'message_delta', delta: { stop_reason: 'weird' }, usage: { output_tokens: 2.7 } }),
    );
    a.accept(ev({ type: 'message_stop' }));
    expect(a.finish()).toMatchObject({
      stopReason: 'other',
      usage: { inputTokens: 0, outputTokens: 2 },
    });
  });
});
