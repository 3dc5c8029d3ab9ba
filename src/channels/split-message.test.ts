import { describe, expect, it } from 'vitest';
import { splitMessage } from './split-message.js';

const fencesBalanced = (part: string) => (part.match(/^```/gm) ?? []).length % 2 === 0;

describe('splitMessage', () => {
  it('keeps a message within the limit whole', () => {
    expect(splitMessage('hello\nworld', 2000)).toEqual(['hello\nworld']);
  });

  it('cuts at line ends, every part within the limit, nothing lost', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line number ${i}`);
    const parts = splitMessage(lines.join('\n'), 200);

    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(200);
    expect(parts.join('\n')).toBe(lines.join('\n'));
  });

  it('hard-cuts a single line longer than the limit', () => {
    const parts = splitMessage('x'.repeat(450), 100);

    for (const part of parts) expect(part.length).toBeLessThanOrEqual(100);
    expect(parts.join('')).toBe('x'.repeat(450));
  });

  it('closes and reopens a code block cut in two, with its language', () => {
    const code = Array.from({ length: 80 }, (_, i) => `const v${i} = ${i};`);
    const text = ['Here is the file:', '```ts', ...code, '```', 'That is all.'].join('\n');

    const parts = splitMessage(text, 300);

    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(300);
      expect(fencesBalanced(part)).toBe(true);
    }
    expect(parts[1]!.startsWith('```ts\n')).toBe(true);
    expect(parts.at(-1)).toContain('That is all.');
    const body = parts.join('\n').replace(/\n```\n```ts/g, '');
    expect(body).toBe(text);
  });

  it('refuses a limit too small to hold a fence', () => {
    expect(() => splitMessage('abc', 5)).toThrow(/too small/);
  });
});
