import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint, sha256Hex } from './canonical-json.js';

describe('canonicalJson', () => {
  it.each([
    ['sorts top-level keys', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    [
      'sorts nested keys',
      { z: { y: 1, x: [{ d: 1, c: 2 }] } },
      '{"z":{"x":[{"c":2,"d":1}],"y":1}}',
    ],
    ['keeps array order', [3, 1, 2], '[3,1,2]'],
    ['leaves out undefined values', { a: undefined, b: null }, '{"b":null}'],
    ['writes scalars as JSON does', 'a"b', '"a\\"b"'],
    [
      'uses toJSON of dates',
      { at: new Date('2025-01-02T03:04:05.000Z') },
      '{"at":"2025-01-02T03:04:05.000Z"}',
    ],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});

describe('fingerprint', () => {
  it('is the same for equal inputs whatever their key order', () => {
    expect(fingerprint({ command: 'ls', cwd: '/w' })).toBe(
      fingerprint({ cwd: '/w', command: 'ls' }),
    );
  });

  it('differs when any value differs', () => {
    expect(fingerprint({ command: 'ls' })).not.toBe(fingerprint({ command: 'ls -a' }));
  });

  it('is the sha256 of the canonical JSON, as 64 hex digits', () => {
    expect(fingerprint({ b: 1, a: 2 })).toBe(sha256Hex('{"a":2,"b":1}'));
    expect(fingerprint('x')).toMatch(/^[0-9a-f]{64}$/);
  });
});
