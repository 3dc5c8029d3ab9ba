import { describe, expect, it } from 'vitest';
import {
  MAX_SNIPPET_CHARS,
  MAX_TITLE_CHARS,
  searchProvider,
  type SearchProvider,
} from './web-search-providers.js';

const brave = searchProvider({ provider: 'brave', baseUrl: 'https://api.search.brave.com' });
const searxng = searchProvider({ provider: 'searxng', baseUrl: 'https://search.example/sx' });

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** Each provider's answer in its own wire format, from (title, url, snippet) triples. */
const answers: Array<{
  provider: SearchProvider;
  answer: (items: unknown[]) => Buffer;
  snippet: string;
}> = [
  {
    provider: brave,
    answer: (items) => json({ type: 'search', query: { original: 'q' }, web: { results: items } }),
    snippet: 'description',
  },
  {
    provider: searxng,
    answer: (items) => json({ query: 'q', number_of_results: items.length, results: items }),
    snippet: 'content',
  },
];

describe('search provider requests', () => {
  it('asks Brave at /res/v1/web/search with q and count, and names its key header', () => {
    const url = brave.searchUrl('café & crème?', 7);
    expect(url.origin + url.pathname).toBe('https://api.search.brave.com/res/v1/web/search');
    expect(url.searchParams.get('q')).toBe('café & crème?');
    expect(url.searchParams.get('count')).toBe('7');
    expect(brave.keyHeader).toBe('x-subscription-token');
  });

  it('asks SearXNG at <base>/search with format=json and needs no key', () => {
    const url = searxng.searchUrl('a b', 3);
    expect(url.href).toBe('https://search.example/sx/search?q=a+b&format=json');
    expect(searxng.keyHeader).toBeUndefined();
  });
});

describe.each(answers)('$provider.name answers', ({ provider, answer, snippet }) => {
  it('become results with title, URL and a snippet without markup', () => {
    const parsed = provider.parse(
      answer([
        {
          title: 'Caf&eacute; <b>guide</b>',
          url: 'https://docs.example/cafe',
          [snippet]: 'The <strong>best</strong>\ncafés &amp; more',
        },
        { title: 'Second', url: 'http://two.example/', [snippet]: 'two' },
      ]),
      5,
    );
    expect(parsed).toEqual({
      ok: true,
      results: [
        { title: 'Café guide', url: 'https://docs.example/cafe', snippet: 'The best cafés & more' },
        { title: 'Second', url: 'http://two.example/', snippet: 'two' },
      ],
    });
  });

  it('keep at most count results, and skip entries without an http(s) URL', () => {
    const items = [
      { title: 'script', url: 'javascript:alert(1)', [snippet]: 'x' },
      { title: 'no url' },
      'not an object',
      { title: 'spaced', url: 'https://a.example/x y' },
      ...Array.from({ length: 20 }, (_, i) => ({
        title: `r${i}`,
        url: `https://r${i}.example/`,
        [snippet]: `s${i}`,
      })),
    ];
    const parsed = provider.parse(answer(items), 3);
    expect(parsed.ok && parsed.results.map((r) => r.title)).toEqual(['r0', 'r1', 'r2']);
  });

  it('bound every field however long the answer makes it', () => {
    const parsed = provider.parse(
      answer([
        {
          title: 'T'.repeat(10_000),
          url: `https://long.example/${'p'.repeat(1000)}`,
          [snippet]: 'x',
        },
        {
          title: 'T'.repeat(10_000),
          url: 'https://ok.example/',
          [snippet]: `${'word '.repeat(5000)}\u202eevil\u0007`,
        },
      ]),
      5,
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.results).toHaveLength(1);
    const [r] = parsed.results;
    expect([...r!.title].length).toBe(MAX_TITLE_CHARS);
    expect([...r!.snippet].length).toBeLessThanOrEqual(MAX_SNIPPET_CHARS);
    expect(r!.snippet.endsWith('…')).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(r!.snippet).not.toMatch(/[\u0000-\u001f\u202e]/);
  });

  it('with no results are an empty list', () => {
    expect(provider.parse(answer([]), 5)).toEqual({ ok: true, results: [] });
  });

  it('that are not JSON are a clear error that does not quote them', () => {
    const parsed = provider.parse(Buffer.from('<html>rate limited, key sk-123</html>'), 5);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason).toMatch(/not JSON \(37 bytes, starting with "<"\)/);
    expect(parsed.reason).not.toContain('sk-123');
  });

  it('in JSON of another shape are a clear error', () => {
    const parsed = provider.parse(json({ results: 'nope', web: { results: 3 } }), 5);
    expect(parsed).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a search result list') as unknown,
    });
    expect(provider.parse(json([1, 2]), 5).ok).toBe(false);
  });
});

it('reads a Brave answer without a web section (nothing matched) as no results', () => {
  expect(brave.parse(json({ type: 'search', query: { original: 'zzz' } }), 5)).toEqual({
    ok: true,
    results: [],
  });
});
