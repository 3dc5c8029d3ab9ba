import { decideHttp } from '../egress/egress-decide.js';
import type { EgressRoute } from '../egress/egress-manager.js';
import type { ProxyFetchResult } from '../egress/proxy-fetch.js';
import type { RunContext } from '../run/run.js';

/*
 * What the web tools (web_fetch, web_search) share about going out through the group's egress
 * proxy: how to ask it, and what to tell the model when it says no — always the rule the owner
 * could add, so a refusal is never a dead end.
 */

/**
 * How to ask the proxy for an https URL. A tunnel (CONNECT) keeps TLS end to end, verified
 * here; but a rule with a method or path can be checked only on a request the proxy reads,
 * so when such a rule would allow it, the proxy gets the request and sends it on over HTTPS
 * itself (certificate verified there). Chosen by the same decideHttp the proxy runs, in
 * both trust states, so the choice never turns an https URL into plain HTTP.
 */
export function viaFor(
  route: EgressRoute,
  groupName: string,
  url: URL,
  method = 'GET',
): 'absolute' | 'connect' {
  if (url.protocol === 'http:') return 'absolute';
  const target = {
    host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(),
    port: Number(url.port) || 443,
    method,
    path: url.pathname,
  };
  const overTls = [false, true].every((untrusted) => {
    const v = decideHttp(route.policy, groupName, { ...target, untrusted });
    return v.ok && v.tls;
  });
  return overTls ? 'absolute' : 'connect';
}

/** The policy line that lets the proxy read (and so broker) GETs to this URL's host. */
export function getRuleFor(url: URL): string {
  return `allow http domain="${url.hostname}" method=GET`;
}

const policyFile = (ctx: RunContext): string => `policy/groups/${ctx.group.name}.policy`;

/** The refusal when the group has no egress proxy at all (its policy allows no http). */
export function noEgressMessage(tool: string, ctx: RunContext, url: URL): string {
  return `${tool} ${url.href} is refused: group ${ctx.group.name} has no egress rule, so it reaches no network. The owner can allow this site with the rule \`${getRuleFor(url)}\` in ${policyFile(ctx)} (in the owner's config dir).`;
}

/** What a failed proxyFetch means, with the rule that would allow it when the proxy refused. */
export function refusalMessage(
  tool: string,
  ctx: RunContext,
  url: URL,
  r: ProxyFetchResult & { ok: false },
): string {
  if (!r.refused) return `${tool} ${url.href} failed: ${r.reason}`;
  const rule = `\`${getRuleFor(url)}\` in ${policyFile(ctx)}`;
  const hint = /no allow http rule covers it/.test(r.reason)
    ? ` The owner can allow it with the rule ${rule}.`
    : /held by the guard/.test(r.reason) && /tunnel/.test(r.reason)
      ? ` A GET rule lets the proxy read the request, so a page can still be read after untrusted content: ${rule}.`
      : '';
  return `${tool} ${url.href} was refused by the egress proxy: ${r.reason}.${hint}`;
}
