import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLines, readLinesBackward } from './log-lines.js';

const cases: Array<[string, string, Array<[string, boolean]>]> = [
  ['an empty file has no lines', '', []],
  ['a line without newline is not terminated', 'a', [['a', false]]],
  ['a line with newline is terminated', 'a\n', [['a', true]]],
  [
    'a torn last line follows whole ones',
    'a\nbc',
    [
      ['a', true],
      ['bc', false],
    ],
  ],
  [
    'empty lines count as lines',
    'a\n\nb\n',
    [
      ['a', true],
      ['', true],
      ['b', true],
    ],
  ],
  ['a file of one newline has one empty line', '\n', [['', true]]],
  [
    'multibyte characters survive chunk boundaries',
    'é€\nü😀x\n',
    [
      ['é€', true],
      ['ü😀x', true],
    ],
  ],
];

describe('log lines', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-lines-'));
    file = path.join(dir, 'f.log');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe.each([1, 2, 3, 65536])('in chunks of %i bytes', (chunkBytes) => {
    it.each(cases)('readLines: %s', (_name, content, expected) => {
      fs.writeFileSync(file, content);
      const got = [...readLines(file, chunkBytes)];
      expect(got.map((l) => [l.text, l.terminated])).toEqual(expected);
      expect(got.map((l) => l.line)).toEqual(expected.map((_, i) => i + 1));
    });

    it.each(cases)('readLinesBackward: %s', (_name, content, expected) => {
      fs.writeFileSync(file, content);
      const got = [...readLinesBackward(file, chunkBytes)];
      expect(got.map((l) => [l.text, l.terminated])).toEqual([...expected].reverse());
    });
  });

  it('reads a missing file as no lines', () => {
    expect([...readLines(file)]).toEqual([]);
    expect([...readLinesBackward(file)]).toEqual([]);
  });
});
