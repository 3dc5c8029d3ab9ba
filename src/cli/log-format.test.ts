import { describe, expect, it } from 'vitest';
import { formatLogLine, LOG_LEVELS } from './log-format.js';

const ALL = { minLevel: 0 };
const record = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time: Date.UTC(2026, 11, 1, 22, 43, 29, 470), pid: 7, ...fields });

describe('formatLogLine', () => {
  it.each([
    [
      'a record with fields',
      record({ group: 'main', messageId: 1, triggered: true, msg: 'message stored' }),
      '2026-12-01T22:43:29.470Z INFO  message stored group=main messageId=1 triggered=true',
    ],
    [
      'a warning',
      record({ level: 40, group: 'fam', attempt: 2, msg: 'run failed; retrying' }),
      '2026-12-01T22:43:29.470Z WARN  run failed; retrying group=fam attempt=2',
    ],
    [
      'a value with spaces, quoted',
      record({ err: 'no such file', msg: 'x' }),
      '2026-12-01T22:43:29.470Z INFO  x err="no such file"',
    ],
    [
      'a nested value, as JSON',
      record({ rules: ['a', 'b'], msg: 'egress proxy listening' }),
      '2026-12-01T22:43:29.470Z INFO  egress proxy listening rules=["a","b"]',
    ],
    ['a line that is not a record, as it is', 'not json', 'not json'],
  ])('prints %s', (_what, line, expected) => {
    expect(formatLogLine(line, ALL)).toBe(expected);
  });

  it('escapes control sequences and newlines a cell or model may have put in a value', () => {
    const quoted = formatLogLine(record({ err: 'boom\u001b[2J\nfake line\u202e', msg: 'm' }), ALL);
    const bare = formatLogLine(record({ err: 'boom\u001b]52;c;eA\u0007', msg: 'm' }), ALL);
    const unsafe = [...'\u001b\u0007\n\r\u007f\u202e'];
    for (const out of [quoted, bare]) for (const c of unsafe) expect(out).not.toContain(c);
    expect(quoted).toContain('\\u202e');
    expect(bare).toContain('boom\\x1b]52;c;eA\\x07');
  });

  it.each([
    ['below --level', record({ msg: 'info' }), { minLevel: LOG_LEVELS.warn! }, false],
    ['at --level', record({ level: 40, msg: 'w' }), { minLevel: LOG_LEVELS.warn! }, true],
    ['another group', record({ group: 'a', msg: 'm' }), { minLevel: 0, group: 'b' }, false],
    ['the group', record({ group: 'b', msg: 'm' }), { minLevel: 0, group: 'b' }, true],
    ['no group with --group', record({ msg: 'm' }), { minLevel: 0, group: 'b' }, false],
    ['a non-record with --level warn', 'garbage', { minLevel: LOG_LEVELS.warn! }, false],
  ])('filters a record %s', (_what, line, filter, shown) => {
    expect(formatLogLine(line, filter) !== undefined).toBe(shown);
  });

  it('cuts a line too long to be a record', () => {
    const out = formatLogLine('x'.repeat(100_000), ALL);
    expect(out!.length).toBeLessThan(17_000);
  });
});
