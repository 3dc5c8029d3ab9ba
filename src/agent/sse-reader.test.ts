import { describe, expect, it } from 'vitest';
import { readSse, SseFormatError, type SseEvent } from './sse-reader.js';

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function all(
  source: AsyncIterable<Buffer>,
  limits = { maxEventBytes: 1024, maxTotalBytes: 4096 },
) {
  const out: SseEvent[] = [];
  for await (const e of readSse(source, limits)) out.push(e);
  return out;
}

describe('readSse', () => {
  it('reads events split anywhere across chunks, CRLF or LF, joining data lines', async () => {
    const events = await all(
      chunks('event: a\r\nda', 'ta: {"x":1}\r\n\r\n: a comment\n', 'data: one\ndata: two\n\n'),
    );
    expect(events).toEqual([
      { event: 'a', data: '{"x":1}' },
      { event: '', data: 'one\ntwo' },
    ]);
  });

  it('keeps a multi-byte character split between chunks whole', async () => {
    const bytes = Buffer.from('data: héllo\n\n');
    const cut = bytes.indexOf(0xc3) + 1;
    async function* split() {
      yield bytes.subarray(0, cut);
      yield bytes.subarray(cut);
    }
    expect(await all(split())).toEqual([{ event: '', data: 'héllo' }]);
  });

  it('drops an event the stream never ended with a blank line', async () => {
    expect(await all(chunks('data: whole\n\ndata: cut off'))).toEqual([
      { event: '', data: 'whole' },
    ]);
  });

  it('refuses an event longer than its limit instead of buffering it', async () => {
    const long = 'data: ' + 'x'.repeat(2000);
    await expect(all(chunks(long))).rejects.toThrow(SseFormatError);
    await expect(all(chunks(long + '\n\n'))).rejects.toThrow(/longer than 1024/);
  });

  it('refuses a stream longer than its total limit', async () => {
    const many = Array.from({ length: 300 }, () => 'data: 0123456789\n\n');
    await expect(all(chunks(...many))).rejects.toThrow(/longer than 4096 bytes/);
  });
});
