/**
 * How the egress proxy decides a request: with decide(), the same function and the same
 * rules as every tool call and `nanocell policy explain --tool http`, so what explain says is
 * what the proxy does. Pure: the policy layers come with the grant.
 */
import { decide } from '../policy/decide.js';
import { ruleMatches } from '../policy/match-rule.js';
import { HTTP_TOOL, type Decision, type PolicyLayers, type Rule } from '../policy/rules.js';

export interface HttpTarget {
  /** Canonical host (canonicalHost). */
  host: string;
  /** The port written in the URL, or null when the URL has none. */
  port: number | null;
  method: string;
  /** URL path, no query. */
  path: string;
  /** The run read untrusted content (for `when=` rules). */
  untrusted?: boolean;
}

export type EgressVerdict =
  | {
      ok: true;
      /** The deciding rule as the audit log shows it: `source:line text`. */
      label: string;
      /** The upstream port to connect to. */
      port: number;
      /**
       * The proxy goes out over HTTPS (certificate verified). True when the allowing rule has
       * a method or path (a brokered API): only the proxy can check those, so the cell speaks
       * plain HTTP to it and the proxy encrypts.
       */
      tls: boolean;
    }
  | { ok: false; reason: string };

type Input = { domain: string; port: number; method?: string; path?: string };
type Judge = (input: Input) => Judged;

interface Judged {
  decision: Decision;
  rule: Rule | undefined;
  input: Input;
  groupName: string;
}

/** A plain-HTTP request (absolute form) from the cell. */
export function decideHttp(policy: PolicyLayers, groupName: string, t: HttpTarget): EgressVerdict {
  if (ambiguousPath(t.path) && pathRulesCover(policy, t.host)) {
    return {
      ok: false,
      reason: `path ${t.path} has an encoded slash or a hidden dot segment, which path rules cannot check; send the plain path`,
    };
  }
  const base = { domain: t.host, method: t.method.toUpperCase(), path: t.path };
  const judgeAt: Judge = (input) => judge(policy, groupName, input, t.untrusted === true);
  if (t.port !== null) {
    const judged = judgeAt({ ...base, port: t.port });
    if (judged.decision.effect !== 'allow') return refusal(judged);
    return allowed(judged, t.port, brokered(judged.rule));
  }
  // No port in the URL: the request is decided as what it will become. A brokered rule
  // (method or path) sends it on over HTTPS to 443; any other allow keeps it plain on 80.
  const overTls = judgeAt({ ...base, port: 443 });
  if (overTls.decision.effect === 'allow' && brokered(overTls.rule)) {
    return allowed(overTls, 443, true);
  }
  const plain = judgeAt({ ...base, port: 80 });
  if (plain.decision.effect === 'allow' && !brokered(plain.rule)) return allowed(plain, 80, false);
  return refusal(overTls.rule && !plain.rule ? overTls : plain);
}

/**
 * A CONNECT tunnel: its method and path are encrypted, so they are not given to decide() —
 * an allow rule with a method or path cannot open a tunnel, and a deny or ask rule with one
 * closes the whole tunnel (unreadable input counts against the request).
 */
export function decideConnect(
  policy: PolicyLayers,
  groupName: string,
  host: string,
  port: number,
  untrusted = false,
): EgressVerdict {
  const judged = judge(policy, groupName, { domain: host, port }, untrusted);
  if (judged.decision.effect !== 'allow') {
    const base = refusal(judged);
    const brokeredAllow = rulesFor(policy, host).some((r) => r.effect === 'allow' && brokered(r));
    if (brokered(judged.rule) || brokeredAllow) {
      return {
        ok: false,
        reason: `${base.reason}; method and path rules cannot be checked inside an encrypted CONNECT tunnel: request http://${host}/... instead, the proxy checks it and sends it on over HTTPS`,
      };
    }
    return base;
  }
  return allowed(judged, port, false);
}

/**
 * A path an upstream server may read differently from the policy: an encoded slash or
 * backslash, or a dot segment hidden behind `;` parameters (`/a/..;/admin`).
 */
export function ambiguousPath(path: string): boolean {
  if (/%2f|%5c/i.test(path)) return true;
  return path.split('/').some((seg) => {
    const bare = (seg.split(';')[0] ?? '').replace(/%2e/gi, '.');
    return bare === '.' || bare === '..';
  });
}

export function ruleLabel(rule: Pick<Rule, 'source' | 'line' | 'text'>): string {
  return `${rule.source}:${rule.line} ${rule.text}`;
}

function judge(policy: PolicyLayers, groupName: string, input: Input, untrusted = false): Judged {
  const decision = decide(
    {
      groupName,
      ...(untrusted ? { untrusted: true } : {}),
      // Egress is never an admin-only tool; the group's role plays no part in it.
      isAdmin: false,
      adminOnly: false,
      tool: HTTP_TOOL,
      toolClass: 'network',
      input,
    },
    policy,
  );
  const origin = decision.rule;
  const rule = origin
    ? allRules(policy).find((r) => r.source === origin.source && r.line === origin.line)
    : undefined;
  return { decision, rule, input, groupName };
}

function allRules(policy: PolicyLayers): Rule[] {
  return [...policy.defaults, ...policy.group, ...(policy.task ?? [])];
}

/** A brokered rule (method or path): the proxy reads the request and goes out over HTTPS. */
export function brokered(rule: Rule | undefined): boolean {
  return (
    rule !== undefined &&
    rule.tool === HTTP_TOOL &&
    (rule.matchers.method !== undefined || rule.matchers.path !== undefined)
  );
}

/** The http rules whose domain matcher covers `host`, whatever their other matchers say. */
export function rulesFor(policy: PolicyLayers, host: string): Rule[] {
  return allRules(policy).filter(
    (r) =>
      r.tool === HTTP_TOOL &&
      ruleMatches(
        {
          ...r,
          effect: 'deny',
          matchers: r.matchers.domain === undefined ? {} : { domain: r.matchers.domain },
        },
        {
          groupName: '',
          isAdmin: false,
          tool: HTTP_TOOL,
          toolClass: 'network',
          input: { domain: host },
        },
      ),
  );
}

function pathRulesCover(policy: PolicyLayers, host: string): boolean {
  return rulesFor(policy, host).some((r) => r.matchers.path !== undefined);
}

function allowed(judged: Judged, port: number, tls: boolean): EgressVerdict {
  const { rule } = judged;
  return { ok: true, label: rule ? ruleLabel(rule) : judged.decision.reason, port, tls };
}

function describeInput(input: Input): string {
  const method = input.method ?? 'CONNECT';
  return `${method} ${input.domain}:${input.port}${input.path ?? ''}`;
}

function refusal(judged: Judged): EgressVerdict & { ok: false } {
  const { decision, rule, input, groupName } = judged;
  const what = describeInput(input);
  const explain = `nanocell policy explain --group ${groupName} --tool http --input '${JSON.stringify(input)}'`;
  if (decision.effect === 'ask') {
    return {
      ok: false,
      reason: `${what} ${decision.reason} (${rule?.text ?? ''}): the proxy cannot wait for an approval in the middle of a request, so it refuses; the owner must allow it with an allow http rule`,
    };
  }
  if (rule) return { ok: false, reason: `${what} is ${decision.reason} (${rule.text})` };
  return {
    ok: false,
    reason: `${what} is denied: no allow http rule covers it (network access is denied unless a policy rule allows it; see ${explain})`,
  };
}
