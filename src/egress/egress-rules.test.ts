import { describe, expect, it } from 'vitest';
import type { EgressRule } from './egress-grant.js';
import { ambiguousPath, matchConnect, matchDomain, matchHttp, pathGlob } from './egress-rules.js';

describe('matchDomain', () => {
  it.each([
    ['api.example.com', 'api.example.com', true],
    ['api.example.com', 'example.com', false],
    ['api.example.com', 'xapi.example.com', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'evilexample.com', false],
    ['*.example.com', 'example.com.evil.net', false],
  ])('%s against %s is %s', (pattern, host, expected) => {
    expect(matchDomain(pattern, host)).toBe(expected);
  });
});

describe('pathGlob', () => {
  it.each([
    ['/v1/messages', '/v1/messages', true],
    ['/v1/messages', '/v1/messages/x', false],
    ['/v1/*', '/v1/messages', true],
    ['/v1/*', '/v1/a/b', false],
    ['/v1/**', '/v1/a/b', true],
    ['/v1/**', '/v2/a', false],
    ['/repos/*/issues', '/repos/nanocell/issues', true],
    ['/file.txt', '/fileXtxt', false],
    ['/a?c', '/abc', true],
    ['/a?c', '/a/c', false],
  ])('%s against %s is %s', (glob, path, expected) => {
    expect(pathGlob(glob).test(path)).toBe(expected);
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

const rules: EgressRule[] = [
  { domain: 'api.example.com', methods: ['GET'], paths: ['/v1/**'] },
  { domain: '*.cdn.example.com' },
  { domain: 'mail.example.com', methods: ['GET', 'HEAD'], upgradeTls: true },
  { domain: 'alt.example.com', ports: [8080] },
];

describe('matchHttp', () => {
  it.each([
    [{ host: 'api.example.com', port: null, method: 'GET', path: '/v1/x' }, '#0', 80],
    [{ host: 'a.cdn.example.com', port: null, method: 'POST', path: '/' }, '#1', 80],
    [{ host: 'mail.example.com', port: null, method: 'get', path: '/inbox' }, '#2', 443],
    [{ host: 'alt.example.com', port: 8080, method: 'PUT', path: '/' }, '#3', 8080],
  ])('allows %j by rule %s on port %s', (target, label, port) => {
    const m = matchHttp(rules, target);
    expect(m.ok).toBe(true);
    if (m.ok) {
      expect(m.label.startsWith(`${label} `)).toBe(true);
      expect(m.port).toBe(port);
    }
  });

  it.each([
    [{ host: 'evil.example.net', port: null, method: 'GET', path: '/' }, 'not in this task'],
    [{ host: 'api.example.com', port: 8443, method: 'GET', path: '/v1/x' }, 'port 8443'],
    [{ host: 'api.example.com', port: null, method: 'POST', path: '/v1/x' }, 'method POST'],
    [{ host: 'api.example.com', port: null, method: 'GET', path: '/v2/x' }, 'path /v2/x'],
    [{ host: 'api.example.com', port: null, method: 'GET', path: '/v1/%2F..' }, 'encoded slash'],
    [
      { host: 'mail.example.com', port: null, method: 'DELETE', path: '/m/1' },
      'allowed: GET, HEAD',
    ],
    [{ host: 'alt.example.com', port: null, method: 'GET', path: '/' }, 'allowed: 8080'],
  ])('refuses %j naming %s', (target, words) => {
    const m = matchHttp(rules, target);
    expect(m.ok).toBe(false);
    if (!m.ok) expect(m.reason).toContain(words);
  });

  it('upgrades to TLS only by a rule that says so', () => {
    const m = matchHttp(rules, { host: 'mail.example.com', port: null, method: 'GET', path: '/' });
    expect(m.ok && m.upgradeTls).toBe(true);
  });
});

describe('matchConnect', () => {
  it.each([
    ['a.cdn.example.com', 443, true, ''],
    ['a.cdn.example.com', 80, false, 'port 80'],
    ['alt.example.com', 8080, true, ''],
    ['nope.example.org', 443, false, 'not in this task'],
    ['api.example.com', 443, false, 'request http://api.example.com/'],
    ['mail.example.com', 443, false, 'sends it on over HTTPS'],
  ])('%s:%s allowed=%s %s', (host, port, ok, words) => {
    const m = matchConnect(rules, host, port);
    expect(m.ok).toBe(ok);
    if (!m.ok) expect(m.reason).toContain(words);
  });

  it('refuses everything when there are no rules', () => {
    expect(matchConnect([], 'example.com', 443).ok).toBe(false);
    expect(matchHttp([], { host: 'example.com', port: null, method: 'GET', path: '/' }).ok).toBe(
      false,
    );
  });
});
