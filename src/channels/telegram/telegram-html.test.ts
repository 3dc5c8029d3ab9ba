import { describe, expect, it } from 'vitest';
import { visibleText } from '../../../test/support/fake-telegram.js';
import { escapeHtml, htmlCut, htmlParts, markdownToHtml } from './telegram-html.js';

describe('markdownToHtml', () => {
  it.each([
    ['plain text', 'plain text'],
    ['a < b && c > d', 'a &lt; b &amp;&amp; c &gt; d'],
    ['**bold** and **more bold**', '<b>bold</b> and <b>more bold</b>'],
    ['run `ls -la <dir>` now', 'run <code>ls -la &lt;dir&gt;</code> now'],
    ['not ** bold ** here', 'not ** bold ** here'],
    ['a lone ** and a `', 'a lone ** and a `'],
    ['`**not bold**`', '<code>**not bold**</code>'],
    ['<b>model html</b>', '&lt;b&gt;model html&lt;/b&gt;'],
  ])('%j → %j', (markdown, html) => {
    expect(markdownToHtml(markdown)).toBe(html);
  });

  it('turns a fenced block into <pre>, with its language, escaping inside', () => {
    const html = markdownToHtml('Here:\n```ts\nif (a < b) x = "**";\n```\ndone');

    expect(html).toBe(
      'Here:\n<pre><code class="language-ts">if (a &lt; b) x = "**";</code></pre>\ndone',
    );
  });

  it('runs an unclosed block to the end so the HTML still parses', () => {
    const html = markdownToHtml('```\nopen <forever>');

    expect(html).toBe('<pre>open &lt;forever&gt;</pre>');
    expect(visibleText(html, 'HTML')).toBe('open <forever>');
  });

  it('always produces HTML Telegram accepts, whatever the model wrote', () => {
    const nasty = ['**a `b** c`', '```\n```\n```', '& &amp; <<>>', '**`x`**', '``` js\ncode'];
    for (const text of nasty) {
      expect(typeof visibleText(markdownToHtml(text), 'HTML'), text).toBe('string');
    }
  });
});

describe('htmlParts', () => {
  it('keeps a short message in one part', () => {
    expect(htmlParts('hi **there**')).toEqual(['hi <b>there</b>']);
  });

  it('splits a long message so every part fits 4096 visible characters and parses', () => {
    const code = Array.from({ length: 400 }, (_, i) => `const v${i} = a < b && ${i};`);
    const text = ['**Intro** & more', '```ts', ...code, '```', 'The end.'].join('\n');

    const parts = htmlParts(text);

    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      const visible = visibleText(part, 'HTML');
      expect(typeof visible).toBe('string');
      expect((visible as string).length).toBeLessThanOrEqual(4096);
    }
    expect(parts[1]!.startsWith('<pre><code class="language-ts">')).toBe(true);
    expect(parts.at(-1)).toContain('The end.');
  });

  it('counts escapes as the one character the user sees', () => {
    const parts = htmlParts('&'.repeat(4096));

    expect(parts).toEqual([escapeHtml('&'.repeat(4096))]);
  });
});

describe('htmlCut', () => {
  it('cuts a long edit to the limit with an ellipsis', () => {
    const visible = visibleText(htmlCut('x'.repeat(5000)), 'HTML') as string;

    expect(visible).toHaveLength(4096);
    expect(visible.endsWith('…')).toBe(true);
  });
});
