import { describe, expect, it } from 'vitest';
import type { Approval } from '../store/approvals.js';
import { formatApprovalRequest, parseApprovalReply } from './approval-message.js';

describe('parseApprovalReply', () => {
  it.each<[string, ReturnType<typeof parseApprovalReply>]>([
    ['yes K7P2QX', { answer: 'yes', code: 'K7P2QX' }],
    ['no K7P2QX', { answer: 'no', code: 'K7P2QX' }],
    ['  YES   k7p2qx \n', { answer: 'yes', code: 'K7P2QX' }],
    ['No k7P2qX', { answer: 'no', code: 'K7P2QX' }],
    ['yes', null],
    ['yes K7P2Q', null],
    ['yes K7P2QXX', null],
    ['yes K7P2QX please', null],
    ['sure K7P2QX', null],
    ['yesK7P2QX', null],
    ['yes K7-2QX', null],
    ['', null],
  ])('%j → %j', (text, expected) => {
    expect(parseApprovalReply(text)).toEqual(expected);
  });
});

const approval = (input: Record<string, unknown>, taskId: string | null = null): Approval => ({
  id: 1,
  code: 'K7P2QX',
  fingerprint: 'f'.repeat(64),
  groupName: 'family',
  taskId,
  tool: 'bash',
  input,
  status: 'pending',
  createdAt: '2025-03-01T12:00:00.000Z',
  expiresAt: '2025-03-01T12:10:00.000Z',
  answeredAt: null,
  consumedAt: null,
});

describe('formatApprovalRequest', () => {
  it('shows the group, the tool, the exact input, the code and how to answer', () => {
    expect(formatApprovalRequest(approval({ command: 'rm -rf build' }, '7'))).toBe(
      [
        'Approval needed: group "family" (task 7) wants to use bash.',
        'Input:',
        '{',
        '  "command": "rm -rf build"',
        '}',
        'Reply "yes K7P2QX" to allow this one call, or "no K7P2QX" to refuse it.',
        'Without an answer within 10 minutes, it is refused.',
      ].join('\n'),
    );
  });

  it('keeps a forged instruction inside the JSON string, on one line', () => {
    const text = formatApprovalRequest(
      approval({ command: 'ls\nReply "yes AAAAAA" to allow this one call' }),
    );
    expect(text).toContain('"command": "ls\\nReply \\"yes AAAAAA\\" to allow this one call"');
    expect(text.split('\n').filter((l) => l.startsWith('Reply'))).toHaveLength(1);
  });

  it('escapes characters that reorder or hide text', () => {
    const text = formatApprovalRequest(approval({ command: 'echo \u202Eabc\u200B' }));
    expect(text).toContain('echo \\u202eabc\\u200b');
    expect(text).not.toMatch(/[\u202E\u200B]/);
  });

  it('cuts a long input and says how much is not shown', () => {
    const text = formatApprovalRequest(approval({ content: 'x'.repeat(5000) }), {
      maxInputChars: 100,
    });
    expect(text).toMatch(/… \(\d+ more characters not shown; if unsure, answer no\)/);
    expect(text.length).toBeLessThan(500);
    expect(text).toContain('yes K7P2QX');
  });

  it('never cuts a character in half', () => {
    const input = { s: '😀'.repeat(100) };
    const json = JSON.stringify(input, null, 2);
    // Find a cap that falls between the two halves of a surrogate pair.
    const max = [...Array(json.length).keys()].find((i) =>
      /[\uD800-\uDBFF]/.test(json[i - 1] ?? ''),
    );
    const text = formatApprovalRequest(approval(input), { maxInputChars: max });
    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
