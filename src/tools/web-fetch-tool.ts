import type { ToolOutcome } from '../agent/agent-loop.js';
import { decideHttp } from '../egress/egress-decide.js';
import type { EgressRoute } from '../egress/egress-manager.js';
import { proxyFetch, type ProxyFetchResult } from '../egress/proxy-fetch.js';
import type { RunContext } from '../run/run.js';
import type { Store } from '../store/store.js';
import { hostToolSpecs } from './host-tool-specs.js';
import { fail, hostTool, ok, type HostTool } from './host-tools.js';
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
      if (!route) return fail(noEgress(ctx, url));
      const r = await proxyFetch({
        socketPath: route.socketPath,
        url,
        via: viaFor(route, ctx, url),
        maxBytes: deps.maxBytes ?? 2 * 1024 * 1024,
        timeoutMs: deps.timeoutMs ?? 20_000,
      });
      if (!r.ok) return fail(refusal(ctx, url, r));
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

/**
 * How to ask the proxy for an https URL. A tunnel (CONNECT) keeps TLS end to end, verified
 * here; but a rule with a method or path can be checked only on a request the proxy reads,
 * so when such a rule would allow it, the proxy gets the request and sends it on over HTTPS
 * itself (certificate verified there). Chosen by the same decideHttp the proxy runs, in
 * both trust states, so the choice never turns an https URL into plain HTTP.
 */
function viaFor(route: EgressRoute, ctx: RunContext, url: URL): 'absolute' | 'connect' {
  if (url.protocol === 'http:') return 'absolute';
  const target = {
    host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(),
    port: Number(url.port) || 443,
    method: 'GET',
    path: url.pathname,
  };
  const overTls = [false, true].every((untrusted) => {
    const v = decideHttp(route.policy, ctx.group.name, { ...target, untrusted });
    return v.ok && v.tls;
  });
  return overTls ? 'absolute' : 'connect';
}

function ruleFor(url: URL): string {
  return `allow http domain="${url.hostname}" method=GET`;
}

function noEgress(ctx: RunContext, url: URL): string {
  return `web_fetch ${url.href} is refused: group ${ctx.group.name} has no egress rule, so it reaches no network. The owner can allow this site with the rule \`${ruleFor(url)}\` in policy/groups/${ctx.group.name}.policy (in the owner's config dir).`;
}

function refusal(ctx: RunContext, url: URL, r: ProxyFetchResult & { ok: false }): string {
  if (!r.refused) return `web_fetch ${url.href} failed: ${r.reason}`;
  const rule = `\`${ruleFor(url)}\` in policy/groups/${ctx.group.name}.policy`;
  const hint = /no allow http rule covers it/.test(r.reason)
    ? ` The owner can allow it with the rule ${rule}.`
    : /held by the guard/.test(r.reason) && /tunnel/.test(r.reason)
      ? ` A GET rule lets the proxy read the request, so a page can still be read after untrusted content: ${rule}.`
      : '';
  return `web_fetch ${url.href} was refused by the egress proxy: ${r.reason}.${hint}`;
}
