import { describe, expect, it } from 'vitest';
import { stripQuoted } from './quoted-text.js';

describe('stripQuoted', () => {
  it.each([
    ['a plain mail', 'see you at 7\nAnn', 'see you at 7\nAnn'],
    [
      'a Gmail reply',
      'yes K3F9\n\nOn Mon, 3 Jun 2024 at 10:00, Bot <bot@x.test> wrote:\n> May I run bash?\n> reply yes K3F9',
      'yes K3F9',
    ],
    [
      'an attribution wrapped in two lines',
      'sounds good\n\nOn Mon, 3 Jun 2024 at 10:00, A Very Long Name\n<bot@x.test> wrote:\n> earlier',
      'sounds good',
    ],
    ['a German client', 'ja\n\nAm 3. Juni 2024 schrieb Bot:\n> Frage', 'ja'],
    [
      'Outlook',
      'ok\r\n\r\n-----Original Message-----\r\nFrom: Bot\r\nSent: today\r\n\r\nquestion',
      'ok',
    ],
    [
      'interleaved quotes',
      '> first question\nanswer one\n> second\nanswer two',
      'answer one\nanswer two',
    ],
    ['a signature', 'call me\n-- \nAnn Smith\n+1 555 0100', 'call me'],
    ['a mail that is only a quote', '> just this', '> just this'],
  ])('%s', (_name, text, own) => {
    expect(stripQuoted(text)).toBe(own);
  });
});
