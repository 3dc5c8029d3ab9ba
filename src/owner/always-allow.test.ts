import { describe, expect, it } from 'vitest';
import { exactAllowFor } from './always-allow.js';

describe('exactAllowFor', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['bash', { command: '  git push origin main ' }, 'allow bash command="git push origin main"'],
    ['bash', { command: 'echo "hi"' }, 'allow bash command="echo \\"hi\\""'],
    [
      'write_file',
      { path: 'shared/../plan.txt' },
      'allow write_file path="/workspace/group/plan.txt"',
    ],
    [
      'read_file',
      { path: '/workspace/global/notes.md' },
      'allow read_file path="/workspace/global/notes.md"',
    ],
  ])('%s %j → %s', (tool, input, rule) => {
    expect(exactAllowFor(tool, input)).toEqual({ ok: true, rule });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['bash', { command: 'rm *.tmp' }, /contains \* or \?/],
    ['bash', { command: 'ls && rm x' }, /shell syntax/],
    ['bash', {}, /no command/],
    ['write_file', { path: 'a?.txt' }, /wildcard/],
    ['send_message', { text: 'hi' }, /cannot name this one call/],
    ['http', { domain: 'a.com' }, /cannot name this one call/],
  ])('refuses %s %j', (tool, input, reason) => {
    const made = exactAllowFor(tool, input);
    expect(made.ok).toBe(false);
    expect(!made.ok && made.reason).toMatch(reason);
  });
});
