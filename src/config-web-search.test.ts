import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const load = (env: NodeJS.ProcessEnv) => loadConfig(env, () => undefined);

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('loadConfig accepted an invalid environment');
}

describe('the web_search settings', () => {
  it('offer no web_search when NANOCELL_WEB_SEARCH is unset', () => {
    expect(load({}).webSearch).toBeUndefined();
  });

  it("use Brave's own API by default, or the base URL given", () => {
    expect(load({ NANOCELL_WEB_SEARCH: 'brave' }).webSearch).toEqual({
      provider: 'brave',
      baseUrl: 'https://api.search.brave.com',
    });
    expect(
      load({ NANOCELL_WEB_SEARCH: 'searxng', NANOCELL_WEB_SEARCH_URL: 'https://s.example/sx/' })
        .webSearch,
    ).toEqual({ provider: 'searxng', baseUrl: 'https://s.example/sx' });
  });

  it('say how to fix a missing SearXNG URL, an unknown provider and a URL with a query', () => {
    expect(problems({ NANOCELL_WEB_SEARCH: 'searxng' })).toEqual([
      expect.stringMatching(
        /^NANOCELL_WEB_SEARCH_URL: must be set with NANOCELL_WEB_SEARCH=searxng/,
      ),
    ]);
    expect(problems({ NANOCELL_WEB_SEARCH: 'google' })).toEqual([
      'NANOCELL_WEB_SEARCH: must be brave or searxng (or unset to offer no web_search tool)',
    ]);
    expect(
      problems({
        NANOCELL_WEB_SEARCH: 'searxng',
        NANOCELL_WEB_SEARCH_URL: 'https://s.example/?x=1',
      }),
    ).toEqual([expect.stringContaining('NANOCELL_WEB_SEARCH_URL: use a base URL like')]);
  });
});
