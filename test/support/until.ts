/**
 * Poll `get` until it returns something other than undefined, for what starts in the
 * background (namespace holders, spare containers); reject naming `what` after `timeoutMs`.
 */
export async function until<T>(
  what: string,
  get: () => T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
