import { describe, expect, it } from 'vitest';
import { toWhatsAppMarkup } from './whatsapp-markup.js';

describe("toWhatsAppMarkup: Markdown in WhatsApp's markup", () => {
  it.each([
    ['**bold** and __bold__', '*bold* and *bold*'],
    ['*italic* and **bold**', '_italic_ and *bold*'],
    ['~~gone~~', '~gone~'],
    ['# Plan for **today**', '*Plan for today*'],
    ['see [the docs](https://example.com/a)', 'see the docs (https://example.com/a)'],
    ['2 * 3 * 4 and a*b', '2 * 3 * 4 and a*b'],
    ['`**not bold**` stays', '`**not bold**` stays'],
    ['plain text', 'plain text'],
  ])('%s', (markdown, expected) => {
    expect(toWhatsAppMarkup(markdown)).toBe(expected);
  });

  it('keeps a code block as it is', () => {
    const block = '```py\n# not a heading\nx = a**2 * *b*\n```\n**after**';

    expect(toWhatsAppMarkup(block)).toBe('```py\n# not a heading\nx = a**2 * *b*\n```\n*after*');
  });
});
