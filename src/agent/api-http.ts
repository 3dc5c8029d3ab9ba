import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where a JSON API is and how patient to be with it. */
export interface ApiHttpOptions {
  baseUrl: string;
  headers: Record<string, string>;
  /** No byte for this long (before or during the answer) ends the request as a timeout. */
  timeoutMs: number;
  maxRetries: number;
}

/** The API answered with a status other than 2xx; `message` is its own error text, bounded. */
export class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
export class ApiTimeoutError extends Error {}
export class ApiConnectionError extends Error {}
export class ApiAbortError extends Error {}

const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_RETRY_AFTER_MS = 60_000;
const RETRYABLE = (status: number) =>
  status === 408 || status === 409 || status === 429 || status >= 500;

/**
 * A JSON API over plain `node:http`/`node:https` with one keep-alive agent: a request costs a
 * socket write and a parse, not a fetch and web-streams pipeline (issue 17). Retries what the
 * API says may be retried (408, 409, 429, 5xx, a dropped connection, a timeout) with
 * exponential backoff and jitter, honouring `retry-after-ms` / `retry-after` up to a minute and
 * `x-should-retry`; a retry happens only before any of the answer was read.
 */
export class ApiHttp {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(private readonly o: ApiHttpOptions) {
    this.base = new URL(o.baseUrl);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true });
  }

  /** The response of a 2xx answer, its body unread; anything else throws an Api*Error. */
  async open(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    limits: { timeoutMs?: number; maxRetries?: number } = {},
  ): Promise<http.IncomingMessage> {
    const maxRetries = limits.maxRetries ?? this.o.maxRetries;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.once(method, path, payload, signal, limits.timeoutMs);
      if (outcome.ok) return outcome.res;
      const { error, retryAfterMs, stale } = outcome;
      if (error instanceof ApiAbortError) throw error;
      // A kept-alive socket the server had closed: not the API's failure, so not counted.
      if (stale && attempt === 0) continue;
      if (!outcome.retryable || attempt >= maxRetries) throw error;
      await sleep(retryAfterMs ?? backoff(attempt), undefined, { signal }).catch(() => {
        throw new ApiAbortError('The model request was stopped before it finished.');
      });
    }
  }

  private once(
    method: string,
    path: string,
    payload: Buffer | undefined,
    signal: AbortSignal | undefined,
    timeoutMs = this.o.timeoutMs,
  ): Promise<
    | { ok: true; res: http.IncomingMessage }
    | { ok: false; error: Error; retryable: boolean; retryAfterMs?: number; stale?: boolean }
  > {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve({ ok: false, error: aborted(), retryable: false });
        return;
      }
      const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
      const mod = url.protocol === 'https:' ? https : http;
      let answered = false;
      const req = mod.request(url, {
        method,
        agent: this.agent,
        headers: {
          accept: 'application/json',
          ...this.o.headers,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
            : {}),
        },
      });
      const onAbort = () => req.destroy(aborted());
      signal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(timeoutMs, () =>
        req.destroy(
          new ApiTimeoutError(
            `The model API at ${this.o.baseUrl} did not answer within ${timeoutMs} ms.`,
          ),
        ),
      );
      req.on('error', (err) => {
        if (answered) return;
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted || err instanceof ApiAbortError) {
          resolve({ ok: false, error: aborted(), retryable: false });
        } else if (err instanceof ApiTimeoutError) {
          resolve({ ok: false, error: err, retryable: true });
        } else {
          resolve({
            ok: false,
            error: new ApiConnectionError(err.message),
            retryable: true,
            stale: req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET',
          });
        }
      });
      req.on('response', (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          // The caller reads the body; the abort listener stays until the request ends.
          res.once('close', () => signal?.removeEventListener('abort', onAbort));
          resolve({ ok: true, res });
          return;
        }
        signal?.removeEventListener('abort', onAbort);
        void readBounded(res).then((text) => {
          const should = res.headers['x-should-retry'];
          resolve({
            ok: false,
            error: new ApiStatusError(status, errorText(text, status)),
            retryable: should === 'true' || (should !== 'false' && RETRYABLE(status)),
            ...retryAfter(res.headers),
          });
        });
      });
      req.end(payload);
    });
  }
}

function aborted(): ApiAbortError {
  return new ApiAbortError('The model request was stopped before it finished.');
}

/** 0.5 s doubling up to 8 s, less up to a quarter at random. */
function backoff(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 8000) * (1 - Math.random() * 0.25);
}

function retryAfter(headers: http.IncomingHttpHeaders): { retryAfterMs?: number } {
  const ms = Number(headers['retry-after-ms']);
  let wait = Number.isFinite(ms) && headers['retry-after-ms'] !== undefined ? ms : undefined;
  const after = headers['retry-after'];
  if (wait === undefined && typeof after === 'string') {
    const seconds = Number(after);
    wait = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - Date.now();
  }
  return wait !== undefined && wait >= 0 && wait <= MAX_RETRY_AFTER_MS
    ? { retryAfterMs: wait }
    : {};
}

async function readBounded(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ERROR_BODY_BYTES) {
        res.destroy();
        break;
      }
      chunks.push(chunk);
    }
  } catch {
    // A broken error body: the status still says what happened.
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The API's own error message (`{"error": {"message": ...}}`), else the status, bounded. */
function errorText(body: string, status: number): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    const message = parsed.error?.message;
    if (typeof message === 'string') return `${status} ${message.slice(0, 500)}`;
  } catch {
    // not JSON: fall through
  }
  return `${status} ${body.slice(0, 200) || 'status code (no body)'}`;
}
