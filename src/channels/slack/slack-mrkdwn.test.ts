import { describe, expect, it } from 'vitest';
import { toMrkdwn, unescapeMrkdwn } from './slack-mrkdwn.js';

describe('toMrkdwn', () => {
  it.each([
    ['**bold**', '*bold*'],
    ['__bold__', '*bold*'],
    ['*italic*', '_italic_'],
    ['~~gone~~', '~gone~'],
    ['# Plan', '*Plan*'],
    ['## Plan ##', '*Plan*'],
    [
      'see [the docs](https://example.com/a?b=1&c=2)',
      'see <https://example.com/a?b=1&amp;c=2|the docs>',
    ],
    ['[x](javascript:alert(1))', '[x](javascript:alert(1))'],
    ['* a list item', '* a list item'],
    ['2 * 3 * 4', '2 * 3 * 4'],
    ['a < b && c > d', 'a &lt; b &amp;&amp; c &gt; d'],
    ['<!channel> <@U123>', '&lt;!channel&gt; &lt;@U123&gt;'],
    ['`**not bold**`', '`**not bold**`'],
    ['`a<b` and **b**', '`a&lt;b` and *b*'],
  ])('%j → %j', (input, output) => {
    expect(toMrkdwn(input)).toBe(output);
  });

  it('keeps a fenced block as code, dropping the language Slack would show as text', () => {
    expect(toMrkdwn('run:\n```bash\necho **x** <y>\n```\n**done**')).toBe(
      'run:\n```\necho **x** &lt;y&gt;\n```\n*done*',
    );
  });

  it('undoes Slack’s escapes for text coming in', () => {
    expect(unescapeMrkdwn('a &lt;b&gt; &amp;lt;')).toBe('a <b> &lt;');
  });
});
