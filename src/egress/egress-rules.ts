/**
 * Rule matching for the egress proxy: pure functions over a grant's rules. Default deny;
 * a refusal names the first thing that did not match and what would have.
 */
import type { EgressRule } from './egress-grant.js';

export interface HttpTarget {
  /** Lower-case host, no trailing dot. */
  host: string;
  /** The port written in the URL, or null when the URL has none. */
  port: number | null;
  method: string;
  /** URL path, already normalized by the URL parser; no query. */
  path: string;
}

export type RuleMatch =
  | { ok: true; ruleIndex: number; label: string; port: number; upgradeTls: boolean }
  | { ok: false; reason: string };

/** `*.example.com` matches any subdomain of example.com, not example.com itself. */
export function matchDomain(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host !== pattern.slice(2);
  return host === pattern;
}

/** `*` and `?` stay within one path segment; `**` crosses segments. */
export function pathGlob(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * A path an upstream server may read differently from the glob: an encoded slash or
 * backslash, or a dot segment hidden behind `;` parameters (`/a/..;/admin`).
 */
export function ambiguousPath(path: string): boolean {
  if (/%2f|%5c/i.test(path)) return true;
  return path.split('/').some((seg) => {
    const bare = (seg.split(';')[0] ?? '').replace(/%2e/gi, '.');
    return bare === '.' || bare === '..';
  });
}

export function describeRule(rule: EgressRule, index: number): string {
  const parts = [`#${index}`, rule.domain];
  if (rule.ports) parts.push(`ports ${rule.ports.join(',')}`);
  if (rule.methods) parts.push(rule.methods.join(','));
  if (rule.paths) parts.push(rule.paths.join(' '));
  if (rule.upgradeTls) parts.push('upgradeTls');
  return parts.join(' ');
}

function defaultPort(rule: EgressRule, kind: 'http' | 'connect'): number {
  return kind === 'connect' || rule.upgradeTls ? 443 : 80;
}

function unique(values: Iterable<string>): string {
  return [...new Set(values)].join(', ');
}

/** A plain-HTTP request (absolute-form) from the cell. */
export function matchHttp(rules: readonly EgressRule[], t: HttpTarget): RuleMatch {
  const byDomain = rules
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => matchDomain(rule.domain, t.host));
  if (byDomain.length === 0) {
    return { ok: false, reason: `${t.host} is not in this task's egress allowlist` };
  }
  const withPort = byDomain
    .map((r) => ({ ...r, port: t.port ?? defaultPort(r.rule, 'http') }))
    .filter(({ rule, port }) => (rule.ports ?? [defaultPort(rule, 'http')]).includes(port));
  if (withPort.length === 0) {
    const allowed = byDomain.flatMap(({ rule }) => rule.ports ?? [defaultPort(rule, 'http')]);
    return {
      ok: false,
      reason: `${t.port === null ? 'the default port' : `port ${t.port}`} is not allowed for ${t.host} (allowed: ${unique(allowed.map(String))})`,
    };
  }
  const method = t.method.toUpperCase();
  const withMethod = withPort.filter(({ rule }) => !rule.methods || rule.methods.includes(method));
  if (withMethod.length === 0) {
    const allowed = withPort.flatMap(({ rule }) => rule.methods ?? []);
    return {
      ok: false,
      reason: `method ${method} is not allowed for ${t.host} (allowed: ${unique(allowed)})`,
    };
  }
  const found = withMethod.find(
    ({ rule }) =>
      !rule.paths ||
      (!ambiguousPath(t.path) && rule.paths.some((glob) => pathGlob(glob).test(t.path))),
  );
  if (!found) {
    if (ambiguousPath(t.path)) {
      return {
        ok: false,
        reason: `path ${t.path} has an encoded slash or a hidden dot segment, which path rules cannot check; send the plain path`,
      };
    }
    const allowed = withMethod.flatMap(({ rule }) => rule.paths ?? []);
    return {
      ok: false,
      reason: `path ${t.path} is not allowed for ${method} ${t.host} (allowed: ${unique(allowed)})`,
    };
  }
  return {
    ok: true,
    ruleIndex: found.index,
    label: describeRule(found.rule, found.index),
    port: found.port,
    upgradeTls: found.rule.upgradeTls === true,
  };
}

/** A CONNECT tunnel: only rules without method/path conditions can allow it. */
export function matchConnect(rules: readonly EgressRule[], host: string, port: number): RuleMatch {
  const byDomain = rules
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => matchDomain(rule.domain, host));
  if (byDomain.length === 0) {
    return { ok: false, reason: `${host} is not in this task's egress allowlist` };
  }
  const withPort = byDomain.filter(({ rule }) =>
    (rule.ports ?? [defaultPort(rule, 'connect')]).includes(port),
  );
  if (withPort.length === 0) {
    const allowed = byDomain.flatMap(({ rule }) => rule.ports ?? [defaultPort(rule, 'connect')]);
    return {
      ok: false,
      reason: `port ${port} is not allowed for ${host} (allowed: ${unique(allowed.map(String))})`,
    };
  }
  const found = withPort.find(({ rule }) => !rule.methods && !rule.paths);
  if (!found) {
    const how = withPort.some(({ rule }) => rule.upgradeTls)
      ? 'the proxy checks it and sends it on over HTTPS'
      : 'which the proxy can check';
    return {
      ok: false,
      reason: `${host} is allowed only for some methods or paths, which cannot be checked inside an encrypted CONNECT tunnel: request http://${host}/... instead, ${how}`,
    };
  }
  return {
    ok: true,
    ruleIndex: found.index,
    label: describeRule(found.rule, found.index),
    port,
    upgradeTls: false,
  };
}
