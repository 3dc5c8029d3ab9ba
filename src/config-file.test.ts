import { describe, expect, it } from 'vitest';
import { closestKey, parseConfigFile, setConfigValue } from './config-file.js';

const KEYS = ['ANTHROPIC_API_KEY', 'NANOCELL_MODEL', 'NANOCELL_WEB_PORT'];

describe('parseConfigFile', () => {
  it('reads KEY=VALUE lines and skips comments and blank lines', () => {
    const { entries, problems } = parseConfigFile(
      '# my settings\n\nNANOCELL_MODEL = claude-x\n  NANOCELL_WEB_PORT=7421\n',
      KEYS,
    );
    expect(problems).toEqual([]);
    expect(entries.get('NANOCELL_MODEL')).toEqual({ value: 'claude-x', line: 3 });
    expect(entries.get('NANOCELL_WEB_PORT')).toEqual({ value: '7421', line: 4 });
  });

  it.each([
    ['double quotes keep spaces', 'NANOCELL_MODEL=" a b "', ' a b '],
    ['single quotes keep spaces', "NANOCELL_MODEL=' a '", ' a '],
    ['a # inside a value is part of it', 'ANTHROPIC_API_KEY=sk#1=2', 'sk#1=2'],
    ['an empty value stays empty', 'NANOCELL_MODEL=', ''],
  ])('%s', (_name, line, value) => {
    const { entries, problems } = parseConfigFile(line, KEYS);
    expect(problems).toEqual([]);
    expect([...entries.values()][0]?.value).toBe(value);
  });

  it.each([
    [
      'NANOCELL_MODLE=x',
      'line 1: NANOCELL_MODLE is not a nanocell setting (did you mean NANOCELL_MODEL?)',
    ],
    ['just words', 'line 1: expected KEY=VALUE'],
    ['=x', 'line 1: expected KEY=VALUE'],
    ['NANOCELL MODEL=x', 'line 1: the key must be a setting name'],
    ['NANOCELL_MODEL="open', "line 1: NANOCELL_MODEL's value opens a quote it does not close"],
    ['NANOCELL_MODEL=a\nNANOCELL_MODEL=b', 'line 2: NANOCELL_MODEL is already set on line 1'],
  ])('names the line and the problem of %j', (text, problem) => {
    const { problems } = parseConfigFile(text, KEYS);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('refuses a key that must not live in the file, with the reason', () => {
    const { entries, problems } = parseConfigFile(
      'NANOCELL_CONFIG_DIR=/x',
      [...KEYS, 'NANOCELL_CONFIG_DIR'],
      new Map([['NANOCELL_CONFIG_DIR', 'belongs in the environment']]),
    );
    expect(entries.size).toBe(0);
    expect(problems).toEqual(['line 1: NANOCELL_CONFIG_DIR belongs in the environment']);
  });

  it('refuses a file too large to be a settings list', () => {
    const { problems } = parseConfigFile(`# ${'x'.repeat(70_000)}`, KEYS);
    expect(problems[0]).toContain('larger than 64 KiB');
  });
});

describe('setConfigValue', () => {
  it('replaces the existing line in place and keeps comments and order', () => {
    const text = '# top\nNANOCELL_MODEL=a\n# port\nNANOCELL_WEB_PORT=1\n';
    expect(setConfigValue(text, 'NANOCELL_MODEL', 'b')).toBe(
      '# top\nNANOCELL_MODEL=b\n# port\nNANOCELL_WEB_PORT=1\n',
    );
  });

  it('appends a new key, and leaves a commented-out one alone', () => {
    expect(setConfigValue('# NANOCELL_MODEL=old\n', 'NANOCELL_MODEL', 'new')).toBe(
      '# NANOCELL_MODEL=old\nNANOCELL_MODEL=new\n',
    );
    expect(setConfigValue('', 'NANOCELL_MODEL', 'new')).toBe('NANOCELL_MODEL=new\n');
  });

  it('quotes a value whose spaces or quotes would otherwise be lost, so it reads back the same', () => {
    for (const value of [' padded ', '"quoted"', "'single'"]) {
      const text = setConfigValue('', 'NANOCELL_MODEL', value);
      expect(parseConfigFile(text, KEYS).entries.get('NANOCELL_MODEL')?.value).toBe(value);
    }
  });
});

describe('closestKey', () => {
  it('suggests a key at most two edits away, in any case, and nothing further', () => {
    expect(closestKey('nanocell_web_prt', KEYS)).toBe('NANOCELL_WEB_PORT');
    expect(closestKey('SOMETHING_ELSE', KEYS)).toBeUndefined();
  });
});
