import { describe, expect, it } from 'vitest';
import { FrameTooLongError, LineSplitter, requestSchema } from './protocol.js';

describe('LineSplitter', () => {
  const collect = (max: number) => {
    const lines: string[] = [];
    const errors: FrameTooLongError[] = [];
    const splitter = new LineSplitter(
      max,
      (l) => lines.push(l),
      (e) => errors.push(e),
    );
    return { lines, errors, splitter };
  };

  it('joins lines split across chunks, a multi-byte character included', () => {
    const { lines, splitter } = collect(100);
    const bytes = Buffer.from('{"a":"é"}\n{"b":2}\n', 'utf8');
    const cut = bytes.indexOf(0xa9); // the second byte of é
    splitter.push(bytes.subarray(0, cut));
    splitter.push(bytes.subarray(cut, cut + 5));
    splitter.push(bytes.subarray(cut + 5));
    expect(lines).toEqual(['{"a":"é"}', '{"b":2}']);
  });

  it('refuses a line longer than its limit before buffering it, and stops there', () => {
    const { lines, errors, splitter } = collect(10);
    splitter.push(Buffer.from('short\n'));
    splitter.push(Buffer.from('x'.repeat(8)));
    splitter.push(Buffer.from('x'.repeat(8)));
    splitter.push(Buffer.from('\nlater\n'));
    expect(lines).toEqual(['short']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe('a control frame was longer than 10 bytes');
  });
});

describe('requestSchema', () => {
  it('accepts the three requests and refuses anything else', () => {
    expect(requestSchema.safeParse({ type: 'run', command: 'status', args: [] }).success).toBe(
      true,
    );
    expect(requestSchema.safeParse({ type: 'chat', group: 'family' }).success).toBe(true);
    expect(requestSchema.safeParse({ type: 'say', id: 0, text: 'hi' }).success).toBe(true);
    expect(requestSchema.safeParse({ type: 'run', command: 'status' }).success).toBe(false);
    expect(requestSchema.safeParse({ type: 'shell', command: 'id' }).success).toBe(false);
    expect(requestSchema.safeParse({ type: 'say', id: -1, text: 'hi' }).success).toBe(false);
  });
});
