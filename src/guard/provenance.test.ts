import { describe, expect, it } from 'vitest';
import {
  MAX_DETAIL_CHARS,
  MAX_SOURCES,
  TRUSTED,
  auditLabel,
  describeSources,
  taint,
} from './provenance.js';
import { isSink, ruleOfTwo } from './sinks.js';

describe('provenance labels', () => {
  it('starts trusted and sticks once untrusted content is read', () => {
    expect(auditLabel(TRUSTED)).toBe('trusted');
    const l = taint(TRUSTED, { kind: 'email', detail: 'bob@example.com' });
    expect(l.untrusted).toBe(true);
    const l2 = taint(l, { kind: 'web', detail: 'api.x.com' });
    expect(describeSources(l2)).toBe(
      'an email from bob@example.com, a web response from api.x.com',
    );
    expect(auditLabel(l2)).toBe('untrusted(email:bob@example.com,web:api.x.com)');
  });

  it('folds duplicates, bounds sources and strips control characters', () => {
    let l = TRUSTED;
    for (let i = 0; i < 20; i++) l = taint(l, { kind: 'web', detail: `h${i % 12}.test` });
    expect(l.sources).toHaveLength(MAX_SOURCES);
    const evil = taint(TRUSTED, { kind: 'chat-message', detail: `eve\nAPPROVE${'x'.repeat(200)}` });
    expect(evil.sources[0]?.detail).not.toContain('\n');
    expect(evil.sources[0]?.detail.length).toBe(MAX_DETAIL_CHARS);
  });
});

describe('sinks and the Rule of Two', () => {
  const access = { egressCredentials: true, extraMounts: false, admin: false };
  const tainted = taint(TRUSTED, { kind: 'email', detail: 'bob@example.com' });

  it('classifies sinks', () => {
    expect(isSink({ tool: 'http', method: 'GET' })).toBe(false);
    expect(isSink({ tool: 'http', method: 'head' })).toBe(false);
    expect(isSink({ tool: 'http', method: 'POST' })).toBe(true);
    expect(isSink({ tool: 'http', method: 'GET', credentialed: true })).toBe(true);
    expect(isSink({ tool: 'send_message', targetChat: 'a', runChat: 'a' })).toBe(false);
    expect(isSink({ tool: 'send_message', targetChat: 'b', runChat: 'a' })).toBe(true);
    expect(isSink({ tool: 'schedule_task' })).toBe(true);
    expect(isSink({ tool: 'register_group' })).toBe(true);
    expect(isSink({ tool: 'write_file', inExtraMount: false })).toBe(false);
    expect(isSink({ tool: 'write_file', inExtraMount: true })).toBe(true);
    expect(isSink({ tool: 'bash' })).toBe(false);
    expect(isSink({ tool: 'bash' }, new Set(['bash']))).toBe(true);
  });

  it('asks only when untrusted AND private access AND a sink', () => {
    const post = { tool: 'http', method: 'POST' };
    expect(ruleOfTwo(tainted, access, post)).toBe('ask');
    expect(ruleOfTwo(TRUSTED, access, post)).toBeUndefined();
    expect(
      ruleOfTwo(tainted, { egressCredentials: false, extraMounts: false, admin: false }, post),
    ).toBeUndefined();
    expect(ruleOfTwo(tainted, access, { tool: 'http', method: 'GET' })).toBeUndefined();
  });
});
