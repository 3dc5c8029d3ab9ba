import type http from 'node:http';
import { PAGE_HEADERS } from './dashboard-files.js';
import { WRONG_LINK_PAGE } from './page.js';
import type { WebCredential } from './web-access.js';
import type { WebSessions } from './web-sessions.js';

/**
 * `/?token=...` opened in a browser: a good token becomes a session cookie and the address
 * loses the token (303 to `/`, other parameters kept), so it stays out of history,
 * bookmarks and screenshots; a wrong one gets a page saying what to do, and no cookie.
 */
export function signIn(
  res: http.ServerResponse,
  url: URL,
  credentialOf: (token: string) => WebCredential | null,
  sessions: WebSessions,
): void {
  const token = url.searchParams.get('token') ?? '';
  const credential = credentialOf(token);
  if (!credential) {
    res.writeHead(401, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...PAGE_HEADERS,
    });
    res.end(WRONG_LINK_PAGE);
    return;
  }
  const clean = new URL(url);
  clean.searchParams.delete('token');
  res.writeHead(303, {
    // Always to the dashboard at `/`: a path like `/.//evil.example` would make the Location
    // `//evil.example`, another site.
    location: `/${clean.search}`,
    'set-cookie': sessions.open(token, credential.kind),
    'cache-control': 'no-store',
    ...PAGE_HEADERS,
  });
  res.end();
}
