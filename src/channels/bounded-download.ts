/** What a download of an untrusted platform URL gave: the bytes, or why not. */
export type Downloaded = { ok: true; bytes: Buffer } | { ok: false; reason: string };

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs?: number;
  /** Hosts the URL may name; anything else is refused before a request is made. */
  allowedHosts: readonly string[];
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

/**
 * Fetches a file a platform pointed at, reading at most `maxBytes` (the declared size is
 * not trusted): a URL on another host, a redirect, an error status, a body over the limit or
 * a slow server ends in a reason, never a throw.
 */
export async function boundedDownload(url: string, limits: DownloadLimits): Promise<Downloaded> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'the file has no valid address' };
  }
  if (
    !['https:', 'http:'].includes(parsed.protocol) ||
    !limits.allowedHosts.includes(parsed.host)
  ) {
    return {
      ok: false,
      reason: `the file is not on the platform's own servers (${parsed.host.slice(0, 60)})`,
    };
  }
  const signal = AbortSignal.timeout(limits.timeoutMs ?? 30_000);
  try {
    const res = await (limits.fetch ?? fetch)(parsed, {
      redirect: 'error',
      signal,
      ...(limits.headers ? { headers: limits.headers } : {}),
    });
    if (!res.ok || !res.body)
      return { ok: false, reason: `the download failed (HTTP ${res.status})` };
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > limits.maxBytes) {
        await res.body.cancel().catch(() => undefined);
        return { ok: false, reason: `it is over the ${mb(limits.maxBytes)} limit` };
      }
      chunks.push(Buffer.from(chunk));
    }
    return { ok: true, bytes: Buffer.concat(chunks) };
  } catch (err) {
    const timedOut = signal.aborted;
    return {
      ok: false,
      reason: timedOut
        ? 'the download timed out'
        : `the download failed (${String((err as Error).message ?? err).slice(0, 100)})`,
    };
  }
}

export function mb(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}
