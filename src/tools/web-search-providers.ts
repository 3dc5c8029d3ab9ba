import { z } from 'zod';
import { decodeEntities } from './html-text.js';

/*
 * The search providers web_search can ask, each as its request and the parsing of its
 * answer. Nothing here sends anything or holds a key: the tool sends the request through the
 * group's egress proxy, which adds the key (credentials/GROUP.json) for the provider's host.
 */

export type WebSearchProviderName = 'brave' | 'searxng';

/** NANOCELL_WEB_SEARCH and NANOCELL_WEB_SEARCH_URL, parsed (src/config.ts). */
export interface WebSearchConfig {
  provider: WebSearchProviderName;
  /** Scheme and host (and a path prefix, for a SearXNG behind one), without a trailing /. */
  baseUrl: string;
}

export interface SearchResult {
  title: string;
  url: string;
  snippet: string;
}

export type ParsedSearch = { ok: true; results: SearchResult[] } | { ok: false; reason: string };

export interface SearchProvider {
  readonly name: WebSearchProviderName;
  /**
   * The header the proxy puts the key into, lower-case, as the owner writes it in
   * credentials/GROUP.json; undefined for a provider that needs no key.
   */
  readonly keyHeader: string | undefined;
  /** The GET request for a query, at most `count` results. */
  searchUrl(query: string, count: number): URL;
  /** The provider's JSON answer as results, at most `count`. Never throws. */
  parse(body: Buffer, count: number): ParsedSearch;
}

export const DEFAULT_BRAVE_URL = 'https://api.search.brave.com';

export const MAX_TITLE_CHARS = 200;
export const MAX_URL_CHARS = 500;
export const MAX_SNIPPET_CHARS = 400;

export function searchProvider(config: WebSearchConfig): SearchProvider {
  return config.provider === 'brave'
    ? braveProvider(config.baseUrl)
    : searxngProvider(config.baseUrl);
}

// Fields a provider may leave out or fill with something else: such a result is skipped.
const loose = z.unknown().optional();

const braveAnswer = z.object({
  web: z.object({ results: z.array(loose) }).optional(),
});

/**
 * Brave Search API: GET /res/v1/web/search?q=..&count=.., key in X-Subscription-Token;
 * answers `{ web: { results: [{ title, url, description }] } }` (no `web` when nothing matched).
 */
function braveProvider(baseUrl: string): SearchProvider {
  return {
    name: 'brave',
    keyHeader: 'x-subscription-token',
    searchUrl: (query, count) => {
      const url = new URL(`${baseUrl}/res/v1/web/search`);
      url.searchParams.set('q', query);
      url.searchParams.set('count', String(count));
      return url;
    },
    parse: (body, count) =>
      parseWith(body, braveAnswer, (a) => pick(a.web?.results ?? [], count, 'description')),
  };
}

const searxngAnswer = z.object({ results: z.array(loose) });

/**
 * SearXNG: GET <base>/search?q=..&format=json (the instance must list `json` under
 * search.formats); answers `{ results: [{ title, url, content }] }`. It has no count
 * parameter: one page comes back and the first `count` are kept.
 */
function searxngProvider(baseUrl: string): SearchProvider {
  return {
    name: 'searxng',
    keyHeader: undefined,
    searchUrl: (query) => {
      const url = new URL(`${baseUrl}/search`);
      url.searchParams.set('q', query);
      url.searchParams.set('format', 'json');
      return url;
    },
    parse: (body, count) =>
      parseWith(body, searxngAnswer, (a) => pick(a.results, count, 'content')),
  };
}

function parseWith<S extends z.ZodType>(
  body: Buffer,
  schema: S,
  results: (answer: z.output<S>) => SearchResult[],
): ParsedSearch {
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch {
    // JSON.parse's message quotes the input: say what it looks like instead.
    const start = body.subarray(0, 1).toString('utf8');
    return {
      ok: false,
      reason: `the provider's answer is not JSON (${body.length} bytes, starting with ${JSON.stringify(start)})`,
    };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'the top level';
    return {
      ok: false,
      reason: `the provider's answer is JSON but not a search result list (unexpected ${where})`,
    };
  }
  return { ok: true, results: results(parsed.data) };
}

/** The first `count` entries with a title and an http(s) URL, each field bounded. */
function pick(entries: readonly unknown[], count: number, snippetField: string): SearchResult[] {
  const out: SearchResult[] = [];
  for (const entry of entries) {
    if (out.length >= count) break;
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const url = typeof e.url === 'string' ? e.url.trim() : '';
    if (!/^https?:\/\//i.test(url) || url.length > MAX_URL_CHARS || /[\s<>"]/.test(url)) continue;
    const title = plain(e.title, MAX_TITLE_CHARS);
    out.push({ title: title || url, url, snippet: plain(e[snippetField], MAX_SNIPPET_CHARS) });
  }
  return out;
}

/** Text without markup (Brave marks matches with <strong>), control characters or runs of space. */
function plain(value: unknown, maxChars: number): string {
  if (typeof value !== 'string') return '';
  const text = decodeEntities(value.slice(0, maxChars * 4).replace(/<[^>]{0,200}>/g, ''))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...text];
  return chars.length > maxChars ? `${chars.slice(0, maxChars - 1).join('')}…` : text;
}
