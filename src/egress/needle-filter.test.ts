import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NeedleFilter, NeedleFoundError, type Needle } from './needle-filter.js';

async function run(chunks: string[], needles: Needle[]): Promise<string> {
  const out: Buffer[] = [];
  const filter = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new NeedleFilter(needles));
  for await (const chunk of filter) out.push(chunk as Buffer);
  return Buffer.concat(out).toString();
}

const swap = (find: string, to: string): Needle => ({
  find: Buffer.from(find),
  replaceWith: Buffer.from(to),
});

describe('NeedleFilter', () => {
  it.each([
    [['hello world'], 'hello world'],
    [['a SECRET b'], 'a [x] b'],
    [['a SEC', 'RET b'], 'a [x] b'],
    [['S', 'E', 'C', 'R', 'E', 'T'], '[x]'],
    [['SECRETSECRET'], '[x][x]'],
    [['SECRE', 'SECRET', 'SECR'], 'SECRE[x]SECR'],
    [[''], ''],
  ])('rewrites %j as %s', async (chunks, expected) => {
    expect(await run(chunks, [swap('SECRET', '[x]')])).toBe(expected);
  });

  it('passes a stream through untouched with no needles', async () => {
    expect(await run(['a', 'b'], [])).toBe('ab');
  });

  it('stops a stream carrying a forbidden needle split across chunks, without passing it on', async () => {
    const seen: string[] = [];
    const filter = new NeedleFilter([
      { find: Buffer.from('TOKEN'), replaceWith: null, reason: 'no' },
    ]);
    filter.on('data', (c: Buffer) => seen.push(c.toString()));
    const failed = new Promise<unknown>((resolve) => filter.on('error', resolve));
    filter.write(Buffer.from('aaaa TO'));
    filter.write(Buffer.from('KEN bbb'));
    const err = await failed;
    expect(err).toBeInstanceOf(NeedleFoundError);
    expect(seen.join('')).not.toContain('TO');
  });
});
