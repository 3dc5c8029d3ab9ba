/* global module, URL */
/**
 * Fake search APIs for the egress namespace's upstream (egress-netns.ts `upstreamModule`),
 * each speaking its provider's wire format: Brave Search at api.search.brave.com
 * (GET /res/v1/web/search?q&count, key in X-Subscription-Token, `web.results[]`) and
 * SearXNG at any other host (GET /search?q&format=json, `results[]`). Plain CommonJS: the
 * upstream runs under `node -e`, without a TypeScript loader.
 */
module.exports = function fakeSearch(req, res) {
  const url = new URL(req.url || '/', 'http://upstream');
  const host = String(req.headers.host || '').replace(/:\d+$/, '');
  const q = url.searchParams.get('q') || '';
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (host === 'api.search.brave.com' && url.pathname === '/res/v1/web/search') {
    const token = req.headers['x-subscription-token'];
    if (!token) {
      send(401, { type: 'ErrorResponse', error: { code: 'SUBSCRIPTION_TOKEN_INVALID' } });
      return true;
    }
    const count = Math.min(Number(url.searchParams.get('count')) || 20, 20);
    const results = Array.from({ length: count }, (_, i) => ({
      title: `Brave <strong>${q}</strong> ${i + 1}`,
      url: `https://brave-result-${i + 1}.example/`,
      // An API that echoes the key it got: the proxy must scrub it from the answer.
      description: `snippet ${i + 1}; key seen: ${token}`,
    }));
    send(200, { type: 'search', query: { original: q }, web: { type: 'search', results } });
    return true;
  }
  if (url.pathname === '/search' && url.searchParams.get('format') === 'json') {
    const results = Array.from({ length: 12 }, (_, i) => ({
      title: `SearXNG ${q} ${i + 1}`,
      url: `https://searx-result-${i + 1}.example/`,
      content: `content ${i + 1}`,
      engine: 'duckduckgo',
    }));
    send(200, { query: q, number_of_results: results.length, results });
    return true;
  }
  return false;
};
