import { describe, expect, it } from 'vitest';
import { decide } from '../policy/decide.js';
import type { PolicyLayers } from '../policy/rules.js';
import { ambiguousPath, decideConnect, decideHttp, type HttpTarget } from './egress-decide.js';
import { egressPolicy } from './egress-test-kit.js';

const get = (host: string, path = '/', port: number | null = null, method = 'GET'): HttpTarget => ({
  host,
  port,
  method,
  path,
});

/** What `nanocell policy explain --tool http --input ...` answers for the same request. */
const explain = (policy: PolicyLayers, input: Record<string, unknown>) =>
  decide({ groupName: 'test', isAdmin: false, tool: 'http', toolClass: 'network', input }, policy)
    .effect;

describe('decideHttp: the proxy answers as decide() does', () => {
  const policy = egressPolicy(
    [
      'allow http domain="*.example.com"',
      'deny  http domain="secret.example.com"',
      'ask   http domain="Mail.Example.com."',
      'allow http domain="ports.example.org" port=80,8080',
      'allow http domain="api.example.org" method=GET,HEAD path="/v1/**"',
    ].join('\n'),
  );

  it.each<[string, HttpTarget, boolean, string]>([
    ['a name under the allowed wildcard', get('a.example.com'), true, 'policy:1'],
    ['a deny under the allowed wildcard', get('secret.example.com'), false, 'policy:2'],
    ['an ask under the allowed wildcard', get('mail.example.com'), false, 'approval'],
    ['the first port of a port list', get('ports.example.org', '/', 80), true, 'policy:4'],
    ['the second port of a port list', get('ports.example.org', '/', 8080), true, 'policy:4'],
    ['a port not in the list', get('ports.example.org', '/', 8081), false, 'no allow http rule'],
    ['the first method of a method list', get('api.example.org', '/v1/x'), true, 'policy:5'],
    [
      'the second method of a method list',
      get('api.example.org', '/v1/x', null, 'HEAD'),
      true,
      'policy:5',
    ],
    [
      'a method not in the list',
      get('api.example.org', '/v1/x', null, 'POST'),
      false,
      'POST api.example.org',
    ],
    ['a path outside the rule', get('api.example.org', '/v2/x'), false, 'no allow http rule'],
  ])('%s', (_what, target, ok, words) => {
    const verdict = decideHttp(policy, 'test', target);
    expect(verdict.ok).toBe(ok);
    expect(verdict.ok ? verdict.label : verdict.reason).toContain(words);
    // The same request, as `policy explain` sees it, gets the same answer.
    const port = verdict.ok ? verdict.port : (target.port ?? 443);
    const effect = explain(policy, {
      domain: target.host,
      method: target.method,
      path: target.path,
      port,
    });
    expect(effect === 'allow').toBe(ok);
  });

  it('says an ask cannot be answered mid-request and that the owner must allow it', () => {
    const verdict = decideHttp(policy, 'test', get('mail.example.com'));
    expect(verdict).toEqual({
      ok: false,
      reason: expect.stringContaining('the owner must allow it with an allow http rule'),
    });
  });

  it('sends a request a brokered rule allows on over TLS to 443, and any other over HTTP to 80', () => {
    expect(decideHttp(policy, 'test', get('api.example.org', '/v1/x'))).toMatchObject({
      ok: true,
      port: 443,
      tls: true,
    });
    expect(decideHttp(policy, 'test', get('a.example.com'))).toMatchObject({
      ok: true,
      port: 80,
      tls: false,
    });
    // A port in the URL is the port it goes to, over TLS when the rule is brokered.
    expect(decideHttp(policy, 'test', get('api.example.org', '/v1/x', 8443))).toMatchObject({
      ok: true,
      port: 8443,
      tls: true,
    });
  });

  it("lets a task's deny narrow the group's allow, and never widens it", () => {
    const layers = egressPolicy(
      'allow http domain="*.example.com"',
      'deny http domain="a.example.com" method=POST\nallow http domain="new.example.net"',
    );
    expect(decideHttp(layers, 'test', get('a.example.com')).ok).toBe(true);
    expect(decideHttp(layers, 'test', get('a.example.com', '/', null, 'POST')).ok).toBe(false);
    expect(decideHttp(layers, 'test', get('new.example.net')).ok).toBe(false);
  });

  it('refuses a path a server may read differently when a path rule covers the host', () => {
    const layers = egressPolicy(
      'allow http domain="a.example.com"\ndeny http domain="a.example.com" path="/admin/**"',
    );
    const verdict = decideHttp(layers, 'test', get('a.example.com', '/v1/..;/admin/x'));
    expect(verdict).toMatchObject({ ok: false, reason: expect.stringContaining('hidden dot') });
    expect(decideHttp(layers, 'test', get('a.example.com', '/admin/x')).ok).toBe(false);
    expect(decideHttp(layers, 'test', get('a.example.com', '/v1/x')).ok).toBe(true);
  });
});

describe('decideConnect: a tunnel is judged without method and path', () => {
  it('opens a tunnel where a plain allow covers the host and port', () => {
    const layers = egressPolicy('allow http domain="*.example.com"');
    expect(decideConnect(layers, 'test', 'a.example.com', 443)).toMatchObject({ ok: true });
    expect(decideConnect(layers, 'test', 'example.com', 443).ok).toBe(false);
  });

  it('refuses a tunnel that a deny on some paths of the host covers, pointing at http://', () => {
    const layers = egressPolicy(
      'allow http domain="*.example.com"\ndeny http domain="a.example.com" path="/admin/**"',
    );
    const verdict = decideConnect(layers, 'test', 'a.example.com', 443);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toContain('denied by policy rule groups/test.policy:2');
    expect(!verdict.ok && verdict.reason).toContain('request http://a.example.com/... instead');
    expect(decideConnect(layers, 'test', 'b.example.com', 443).ok).toBe(true);
  });

  it('refuses a tunnel that a deny on a method covers: the method inside cannot be seen', () => {
    const layers = egressPolicy(
      'allow http domain="a.example.com"\ndeny http domain="a.example.com" method=POST',
    );
    expect(decideConnect(layers, 'test', 'a.example.com', 443).ok).toBe(false);
  });

  it('does not open a tunnel for a brokered allow', () => {
    const layers = egressPolicy('allow http domain="a.example.com" method=GET');
    const verdict = decideConnect(layers, 'test', 'a.example.com', 443);
    expect(!verdict.ok && verdict.reason).toContain('request http://a.example.com/... instead');
  });
});

describe('ambiguousPath', () => {
  it.each([
    ['/v1/messages', false],
    ['/v1/%2Fadmin', true],
    ['/v1/%5cadmin', true],
    ['/v1/..;/admin', true],
    ['/v1/.;x/admin', true],
    ['/v1/%2e%2e;/admin', true],
    ['/v1/.well-known/x', false],
    ['/v1/a..b', false],
  ])('%s is %s', (path, expected) => {
    expect(ambiguousPath(path)).toBe(expected);
  });
});
