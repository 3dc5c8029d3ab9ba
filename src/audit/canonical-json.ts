import crypto from 'node:crypto';

/**
 * JSON with every object's keys sorted (recursively), so that equal values always give the
 * same text and therefore the same hash, whatever order their keys were built in. Keys whose
 * value is undefined are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const maybeJson = value as { toJSON?: () => unknown };
  if (typeof maybeJson.toJSON === 'function') return sortKeys(maybeJson.toJSON());
  if (Array.isArray(value)) return value.map(sortKeys);
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const inner = (value as Record<string, unknown>)[key];
    if (inner !== undefined) sorted[key] = sortKeys(inner);
  }
  return sorted;
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * What the audit log keeps of a tool's input instead of the input itself: inputs may hold
 * secrets or message text, which must never reach the log. Equal inputs give equal
 * fingerprints, so an approval or a record can still be matched to the exact call.
 */
export function fingerprint(input: unknown): string {
  return sha256Hex(canonicalJson(input));
}
