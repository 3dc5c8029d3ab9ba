import { describe, expect, it } from 'vitest';
import { FallbackProvider } from './fallback-provider.js';
import {
  complete,
  ModelError,
  type ModelErrorKind,
  type ModelEvent,
  type ModelProvider,
} from './model-provider.js';

/** A provider that yields `events` and then, if given, fails with `failKind`. */
function scripted(name: string, events: ModelEvent[], failKind?: ModelErrorKind) {
  const calls: string[] = [];
  const provider: ModelProvider = {
    name,
    async *stream() {
      calls.push(name);
      for (const event of events) yield event;
      if (failKind) throw new ModelError(failKind, `${name} failed`);
    },
    check: () => Promise.resolve({ ok: failKind === undefined, detail: `${name} checked` }),
  };
  return { provider, calls };
}

const done = (text: string): ModelEvent => ({
  type: 'done',
  response: {
    content: [{ type: 'text', text }],
    stopReason: 'end_turn',
    usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
  },
});
const request = { system: '', messages: [], tools: [], maxTokens: 10 };

describe('FallbackProvider', () => {
  it.each<ModelErrorKind>(['rate_limit', 'overloaded', 'server', 'timeout', 'connection'])(
    'answers from the fallback model when the primary is down (%s)',
    async (kind) => {
      const primary = scripted('primary', [], kind);
      const fallback = scripted('fallback', [done('from the fallback')]);
      const seen: string[] = [];
      const provider = new FallbackProvider(primary.provider, fallback.provider, (e) =>
        seen.push(e.kind),
      );
      const response = await complete(provider, request);
      expect(response.content).toEqual([{ type: 'text', text: 'from the fallback' }]);
      expect(seen).toEqual([kind]);
    },
  );

  it.each<ModelErrorKind>(['auth', 'bad_request', 'bad_response', 'aborted', 'no_api_key'])(
    'does not ask the fallback when the primary fails with %s',
    async (kind) => {
      const fallback = scripted('fallback', [done('never')]);
      const provider = new FallbackProvider(
        scripted('primary', [], kind).provider,
        fallback.provider,
      );
      await expect(complete(provider, request)).rejects.toMatchObject({ kind });
      expect(fallback.calls).toEqual([]);
    },
  );

  it('does not ask the fallback once the primary has started to answer', async () => {
    const primary = scripted('primary', [{ type: 'text', text: 'Half' }], 'connection');
    const fallback = scripted('fallback', [done('never')]);
    const provider = new FallbackProvider(primary.provider, fallback.provider);
    await expect(complete(provider, request)).rejects.toMatchObject({ kind: 'connection' });
    expect(fallback.calls).toEqual([]);
  });

  it('does not use the fallback when the primary answers', async () => {
    const fallback = scripted('fallback', [done('never')]);
    const provider = new FallbackProvider(
      scripted('primary', [done('primary')]).provider,
      fallback.provider,
    );
    expect((await complete(provider, request)).content).toEqual([
      { type: 'text', text: 'primary' },
    ]);
    expect(fallback.calls).toEqual([]);
  });

  it('checks both models and is ok when either answers', async () => {
    const provider = new FallbackProvider(
      scripted('primary', [], 'server').provider,
      scripted('fallback', []).provider,
    );
    expect(await provider.check()).toEqual({
      ok: true,
      detail: 'primary checked; fallback: fallback checked',
    });
  });
});
