import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiAbortError, ApiHttp, ApiStatusError } from './api-http.js';

type Answer = { status: number; headers?: Record<string, string>; body?: string };

async function serve(answers: Answer[]) {
  const seen: Array<{ path: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      const a = answers.shift();
      if (!a) return; // hang: the client's timeout or abort ends it
      res.writeHead(a.status, a.headers).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`;
  return { url, seen, close: () => new Promise((r) => server.close(r)), server };
}

describe('ApiHttp', () => {
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });
  const api = (url: string, maxRetries: number, timeoutMs = 2000) =>
    new ApiHttp({ baseUrl: url, headers: { 'x-api-key': 'k' }, timeoutMs, maxRetries });

  it('sends JSON under the base path with the given headers and returns the 2xx answer', async () => {
    const s = await serve([{ status: 200, body: 'ok' }]);
    close = () => (s.server.closeAllConnections(), s.close());
    const res = await api(s.url, 0).open('POST', '/v1/messages', { a: 1 }, undefined);
    let text = '';
    for await (const c of res) text += String(c);
    expect(text).toBe('ok');
    expect(s.seen[0]).toMatchObject({ path: '/prefix/v1/messages', body: '{"a":1}' });
    expect(s.seen[0]?.headers).toMatchObject({
      'x-api-key': 'k',
      'content-type': 'application/json',
    });
  });

  it('waits retry-after-ms and retries a 503, then gives the answer that follows', async () => {
    const s = await serve([
      { status: 503, headers: { 'retry-after-ms': '30' } },
      { status: 200, body: 'fine' },
    ]);
    close = () => (s.server.closeAllConnections(), s.close());
    const started = Date.now();
    const res = await api(s.url, 1).open('GET', '/x', undefined, undefined);
    res.resume();
    expect(res.statusCode).toBe(200);
    expect(s.seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('does not retry what the server says not to, and keeps its error message', async () => {
    const s = await serve([
      {
        status: 500,
        headers: { 'x-should-retry': 'false' },
        body: JSON.stringify({ error: { message: 'do not bother' } }),
      },
    ]);
    close = () => (s.server.closeAllConnections(), s.close());
    const error = await api(s.url, 3)
      .open('GET', '/x', undefined, undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiStatusError);
    expect((error as ApiStatusError).status).toBe(500);
    expect((error as Error).message).toContain('do not bother');
    expect(s.seen).toHaveLength(1);
  });

  it('retries a 400 only when the server asks for it', async () => {
    const s = await serve([
      { status: 400, headers: { 'x-should-retry': 'true', 'retry-after-ms': '1' } },
      { status: 400 },
    ]);
    close = () => (s.server.closeAllConnections(), s.close());
    const error = await api(s.url, 3)
      .open('GET', '/x', undefined, undefined)
      .catch((e: unknown) => e);
    expect((error as ApiStatusError).status).toBe(400);
    expect(s.seen).toHaveLength(2);
  });

  it('stops waiting for a hung answer as soon as the signal fires', async () => {
    const s = await serve([]);
    close = () => (s.server.closeAllConnections(), s.close());
    const controller = new AbortController();
    const pending = api(s.url, 2, 60_000).open('GET', '/x', undefined, controller.signal);
    while (s.seen.length === 0) await new Promise((r) => setImmediate(r));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(ApiAbortError);
  });
});
