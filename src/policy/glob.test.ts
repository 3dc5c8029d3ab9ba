import { describe, expect, it } from 'vitest';
import { matchPathGlob, matchTextGlob, pathGlobReaches } from './glob.js';

describe('matchTextGlob', () => {
  it.each<[string, string, boolean]>([
    ['git *', 'git status', true],
    ['git *', 'git', false],
    ['git*', 'git', true],
    ['*', '', true],
    ['rm ?', 'rm x', true],
    ['rm ?', 'rm xy', false],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['*/etc/*', 'cat /etc/shadow', true],
    ['*/etc/*', 'cat /home/etc', false],
    ['* /etc/*', 'cat /etc/shadow', true],
    ['echo *', 'echo a\nb', true],
  ])('%j against %j → %s', (pattern, text, expected) => {
    expect(matchTextGlob(pattern, text)).toBe(expected);
  });
});

describe('matchPathGlob', () => {
  it.each<[string, string, boolean]>([
    ['/a/*', '/a/b', true],
    ['/a/*', '/a/b/c', false],
    ['/a/**', '/a', true],
    ['/a/**', '/a/b/c', true],
    ['/a/**/z', '/a/z', true],
    ['/a/**/z', '/a/b/c/z', true],
    ['/a/**/z', '/a/b/c/y', false],
    ['/a/*.md', '/a/notes.md', true],
    ['/a/*.md', '/a/notes.mdx', false],
    ['/a/?', '/a/b', true],
    ['/**', '/', true],
    ['/a', '/ab', false],
    ['/**/**/**/**/**/**/x', `/${'d/'.repeat(40)}y`, false],
  ])('%j against %j → %s', (pattern, path, expected) => {
    expect(matchPathGlob(pattern, path)).toBe(expected);
  });
});

describe('pathGlobReaches', () => {
  it.each<[string, string, boolean]>([
    ['/w/g/private/**', '/w/g', true],
    ['/w/g/private/**', '/', true],
    ['/w/g/private/**', '/w/g/private/x', true],
    ['/w/g/private/**', '/w/g/public', false],
    ['/w/g/*.pem', '/w/g', true],
    ['/w/g/*.pem', '/w/g/sub', false],
    ['/**/secret', '/anything/at/all', true],
    ['/w/g/a', '/w/g/a/b', false],
  ])('%j from %j → %s', (pattern, path, expected) => {
    expect(pathGlobReaches(pattern, path)).toBe(expected);
  });
});
