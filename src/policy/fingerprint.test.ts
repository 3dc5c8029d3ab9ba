import { describe, expect, it } from 'vitest';
import { callFingerprint, canonicalJson, NotJsonError } from './fingerprint.js';

describe('canonicalJson', () => {
  it.each<[unknown, string]>([
    [{ b: 1, a: [2, { d: null, c: 'x' }] }, '{"a":[2,{"c":"x","d":null}],"b":1}'],
    [{ a: undefined, b: true }, '{"b":true}'],
    ['line\nbreak', '"line\\nbreak"'],
    [[], '[]'],
    [-0, '0'],
  ])('%j → %s', (value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });

  it.each<[string, unknown]>([
    ['NaN', { n: NaN }],
    ['Infinity', [Infinity]],
    ['a function', { f: () => 1 }],
    ['a bigint', { n: 1n }],
  ])('refuses %s', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(NotJsonError);
  });

  it('refuses a cycle but accepts a shared, acyclic object', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/refers back to itself/);
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('callFingerprint', () => {
  const base = { groupName: 'family', tool: 'bash', input: { command: 'rm -rf build', cwd: 'a' } };

  it('is a sha256 hex digest that ignores key order', () => {
    const fp = callFingerprint(base);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(callFingerprint({ ...base, input: { cwd: 'a', command: 'rm -rf build' } })).toBe(fp);
  });

  it.each([
    ['another group', { ...base, groupName: 'work' }],
    ['another tool', { ...base, tool: 'grep' }],
    ['another input', { ...base, input: { command: 'rm -rf build ', cwd: 'a' } }],
    ['an extra field', { ...base, input: { ...base.input, extra: 1 } }],
  ])('changes with %s', (_name, other) => {
    expect(callFingerprint(other)).not.toBe(callFingerprint(base));
  });
});
