import { describe, expect, it } from 'vitest';
import { describeSize, makeAttachment } from './attachment.js';

describe('makeAttachment', () => {
  it('accepts a plain name, a MIME type and bytes under the cap', () => {
    const bytes = Buffer.from('hi');
    expect(makeAttachment('report 2026.pdf', 'application/pdf', bytes)).toEqual({
      ok: true,
      attachment: { name: 'report 2026.pdf', mime: 'application/pdf', bytes },
    });
  });

  it.each([
    { what: 'a path', name: '../etc/passwd', mime: 'text/plain', size: 1, says: 'plain file name' },
    { what: 'a folder', name: 'a/b.txt', mime: 'text/plain', size: 1, says: 'plain file name' },
    { what: 'a backslash', name: 'a\\b.txt', mime: 'text/plain', size: 1, says: 'plain file name' },
    {
      what: 'a control character',
      name: 'a\u001b[2J.txt',
      mime: 'text/plain',
      size: 1,
      says: 'plain file name',
    },
    {
      what: 'a bidi override',
      name: 'txt.\u202Eexe',
      mime: 'text/plain',
      size: 1,
      says: 'plain file name',
    },
    { what: 'an empty name', name: '', mime: 'text/plain', size: 1, says: 'plain file name' },
    { what: '..', name: '..', mime: 'text/plain', size: 1, says: 'plain file name' },
    {
      what: 'a long name',
      name: 'a'.repeat(129),
      mime: 'text/plain',
      size: 1,
      says: 'plain file name',
    },
    { what: 'a bad MIME type', name: 'a.txt', mime: 'text', size: 1, says: 'MIME type' },
    {
      what: 'a MIME type with parameters',
      name: 'a.txt',
      mime: 'text/html; x=1',
      size: 1,
      says: 'MIME type',
    },
    {
      what: 'too many bytes',
      name: 'a.bin',
      mime: 'application/octet-stream',
      size: 11,
      says: 'limit is 10 bytes',
    },
  ])('refuses $what and says what is wrong', ({ name, mime, size, says }) => {
    const r = makeAttachment(name, mime, Buffer.alloc(size), 10);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(says);
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [2048, '2 KB'],
    [3 * 1024 * 1024, '3.0 MB'],
  ])('describes %i bytes as %s', (bytes, text) => {
    expect(describeSize(bytes)).toBe(text);
  });
});
