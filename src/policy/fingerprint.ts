import crypto from 'node:crypto';

export class NotJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotJsonError';
  }
}

/**
 * JSON with object keys sorted at every depth and no whitespace, so equal values always give
 * equal text whatever order their keys were built in. Throws NotJsonError for values JSON
 * cannot carry faithfully (functions, symbols, bigints, non-finite numbers, cycles).
 */
export function canonicalJson(value: unknown): string {
  const onPath = new Set<object>();
  const walk = (v: unknown, where: string): string => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new NotJsonError(`${where} is ${v}, which JSON cannot hold`);
      return JSON.stringify(v);
    }
    if (typeof v !== 'object') throw new NotJsonError(`${where} is a ${typeof v}, not JSON`);
    if (onPath.has(v)) throw new NotJsonError(`${where} refers back to itself`);
    onPath.add(v);
    let text: string;
    if (Array.isArray(v)) {
      text = `[${v.map((item, i) => walk(item, `${where}[${i}]`)).join(',')}]`;
    } else {
      const entries = Object.entries(v)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      text = `{${entries.map(([k, item]) => `${JSON.stringify(k)}:${walk(item, `${where}.${k}`)}`).join(',')}}`;
    }
    onPath.delete(v);
    return text;
  };
  return walk(value, 'input');
}

/** What an approval is bound to: this group, this tool, this exact input. */
export function callFingerprint(call: { groupName: string; tool: string; input: unknown }): string {
  const text = canonicalJson({ group: call.groupName, tool: call.tool, input: call.input });
  return crypto.createHash('sha256').update(text).digest('hex');
}
