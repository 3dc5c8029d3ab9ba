import crypto from 'node:crypto';

/**
 * A deterministic stand-in for Anthropic's prompt cache, for the fake model servers (tests and
 * bench). The prompt is read in the API's prefix order — tools, system, messages — one piece
 * per tool and per content block. A request that marks pieces with `cache_control` reads from
 * the cache the longest prefix an earlier request marked (its tokens are `cache_read`), writes
 * what is new up to its own last mark (`cache_creation`), and pays the rest as input. A request
 * without marks pays everything as input. Tokens are estimated as JSON length / 4; a prefix of
 * fewer than `minTokens` tokens is not cached (the real API's minimum is 1024 for most models).
 */
export class PromptCache {
  /** @param {{ minTokens?: number }} [options] */
  constructor(options = {}) {
    this.minTokens = options.minTokens ?? 0;
    /** @type {Set<string>} */
    this.prefixes = new Set();
  }

  /** Forgets every cached prefix. */
  clear() {
    this.prefixes.clear();
  }

  /**
   * The usage of one request body, and remembers what it marked.
   * @param {unknown} body
   * @returns {{ input_tokens: number, cache_read_input_tokens: number, cache_creation_input_tokens: number }}
   */
  account(body) {
    const pieces = piecesOf(body);
    const total = pieces.reduce((n, p) => n + p.tokens, 0);
    const marks = pieces.flatMap((p, i) => (p.marked ? [i] : []));
    if (marks.length === 0) {
      return { input_tokens: total, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    }
    const model = body && typeof body === 'object' ? String(body.model ?? '') : '';
    let hash = crypto.createHash('sha256').update(model).digest('hex');
    const hashes = [];
    const upTo = [];
    let tokens = 0;
    for (const p of pieces) {
      hash = crypto.createHash('sha256').update(hash).update(p.key).digest('hex');
      tokens += p.tokens;
      hashes.push(hash);
      upTo.push(tokens);
    }
    const last = marks.at(-1);
    let read = 0;
    let hit = -1;
    for (let i = last; i >= 0; i--) {
      if (this.prefixes.has(hashes[i])) {
        hit = i;
        read = upTo[i];
        break;
      }
    }
    let written = read;
    for (const i of marks) {
      if (upTo[i] < this.minTokens) continue;
      this.prefixes.add(hashes[i]);
      if (i > hit) written = upTo[i];
    }
    return {
      input_tokens: total - written,
      cache_read_input_tokens: read,
      cache_creation_input_tokens: written - read,
    };
  }
}

/** @param {unknown} body */
function piecesOf(body) {
  const b = body && typeof body === 'object' ? /** @type {Record<string, unknown>} */ (body) : {};
  const out = [];
  const add = (section, value) => {
    const marked = !!(value && typeof value === 'object' && 'cache_control' in value);
    const { cache_control: _mark, ...rest } =
      value && typeof value === 'object'
        ? /** @type {Record<string, unknown>} */ (value)
        : { value };
    const key = JSON.stringify([section, rest]);
    out.push({ key, marked, tokens: Math.max(1, Math.ceil(JSON.stringify(rest).length / 4)) });
  };
  for (const tool of Array.isArray(b.tools) ? b.tools : []) add('tool', tool);
  if (typeof b.system === 'string') add('system', { type: 'text', text: b.system });
  else for (const block of Array.isArray(b.system) ? b.system : []) add('system', block);
  (Array.isArray(b.messages) ? b.messages : []).forEach((m, i) => {
    const content =
      typeof m?.content === 'string' ? [{ type: 'text', text: m.content }] : m?.content;
    for (const block of Array.isArray(content) ? content : []) add(`${i}:${m?.role}`, block);
  });
  return out;
}
