import type { Transformer } from 'grammy';
import type { Logger } from 'pino';
import type { Clock } from '../../cells/clock.js';

/** Rate-limited calls are tried again this many times. */
const MAX_RETRIES = 3;

/**
 * Honours Telegram's 429 `retry_after`: the call waits as long as it is told (up to
 * `maxWaitMs`; a longer ban is the caller's failure) and is tried again. The wait ends early,
 * with the call failing, when its signal aborts (the channel stops).
 */
export function retryAfter(clock: Clock, maxWaitMs: number, log: Logger): Transformer {
  return async (prev, method, payload, signal) => {
    for (let attempt = 0; ; attempt++) {
      const result = await prev(method, payload, signal);
      if (result.ok || result.error_code !== 429 || attempt >= MAX_RETRIES) return result;
      const waitMs = Math.max(1, result.parameters?.retry_after ?? 1) * 1000;
      if (waitMs > maxWaitMs) return result;
      log.warn({ method, retryAfterMs: waitMs }, 'telegram rate limit: waiting before retrying');
      await wait(clock, waitMs, signal as unknown as AbortSignal | undefined);
    }
  };
}

/** Resolves after `ms` on `clock`; rejects when `signal` aborts first. */
export function wait(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('telegram channel stopped'));
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(new Error('telegram channel stopped'));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
