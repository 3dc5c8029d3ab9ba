import type { ToolOutcome } from '../agent/agent-loop.js';
import type { EgressRoute } from '../egress/egress-manager.js';
import { proxyFetch, type ProxyFetchResult } from '../egress/proxy-fetch.js';
import type { Store } from '../store/store.js';
import { hostToolSpecs } from './host-tool-specs.js';
import { fail, hostTool, ok, type HostTool } from './host-tools.js';
import { noEgressMessage, refusalMessage, viaFor } from './web-egress.js';
import { webPage } from './web-page.js';

export interface WebFetchDeps {
  store: Store;
  /** The group's egress proxy while it has one (EgressManager.route). */
  egressFor: (groupName: string) => EgressRoute | undefined;
  /** Body bytes read from the server, at most. Default 2 MiB. */
  maxBytes?: number;
  /** One request's wall time. Default 20 s. */
  timeoutMs?: number;
}

export const DEFAULT_WEB_FETCH_CHARS = 20_000;
const MAX_REDIRECTS = 5;

/**
 * web_fetch: a URL as readable text. It goes out only through the group's own egress proxy,
 * so the group's rules, budget, audit log and data-flow guard decide it as they decide the
 * cell's requests; what comes back is someone else's words and labels the session (src/guard).
 */
export function webFetchTool(deps: WebFetchDeps): HostTool {
  return hostTool(hostToolSpecs.web_fetch, async (ctx, input) => {
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      return fail(
        `${input.url.slice(0, 200)} is not a URL: give a full http:// or https:// address`,
      );
    }
    const maxChars = input.max_chars ?? DEFAULT_WEB_FETCH_CHARS;
    for (let hop = 0; ; hop++) {
      const bad = unfetchable(url);
      if (bad) return fail(bad);
      const route = deps.egressFor(ctx.group.name);
      if (!route) return fail(noEgressMessage('web_fetch', ctx, url));
      const r = await proxyFetch({
        socketPath: route.socketPath,
        url,
        via: viaFor(route, ctx.group.name, url),
        maxBytes: deps.maxBytes ?? 2 * 1024 * 1024,
        timeoutMs: deps.timeoutMs ?? 20_000,
      });
      if (!r.ok) return fail(refusalMessage('web_fetch', ctx, url, r));
      const location = r.headers.location;
      if (r.status >= 300 && r.status < 400 && location) {
        if (hop >= MAX_REDIRECTS)
          return fail(`${url.href} redirected more than ${MAX_REDIRECTS} times; stopped`);
        url = new URL(location, url);
        continue;
      }
      // What the web says is untrusted content, whatever the page turns out to be.
      deps.store.provenance.taint(ctx.group.id, { kind: 'web', detail: url.hostname });
      return page(url, r, maxChars);
    }
  });
}

function page(url: URL, r: ProxyFetchResult & { ok: true }, maxChars: number): ToolOutcome {
  const contentType = r.headers['content-type'];
  const p = webPage(r.body, contentType);
  if (!p.ok) return fail(`${url.href}: ${p.reason}`);
  const chars = [...p.text];
  const shown = chars.length > maxChars ? chars.slice(0, maxChars).join('') : p.text;
  const notes = [
    ...(chars.length > maxChars
      ? [
          `[text truncated: ${chars.length - maxChars} more characters; ask with a larger max_chars, up to 100000]`,
        ]
      : []),
    ...(r.truncated
      ? ['[the page was larger than web_fetch reads; only its beginning is here]']
      : []),
  ];
  const head = [
    `URL: ${url.href}`,
    `Status: ${r.status}`,
    ...(p.title ? [`Title: ${p.title}`] : []),
    `Content-Type: ${String(contentType ?? 'unknown').slice(0, 100)} (read as ${p.charset})`,
  ];
  const text = [head.join('\n'), '', shown, ...(notes.length ? ['', ...notes] : [])].join('\n');
  return r.status >= 400 ? { output: text, isError: true } : ok(text);
}

function unfetchable(url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${url.protocol} URLs are not fetched: web_fetch reads http:// and https:// pages`;
  }
  if (url.username || url.password) {
    return "a URL with user:password is not fetched: credentials are the owner's to configure (credentials/GROUP.json), never in a URL";
  }
  return undefined;
}
