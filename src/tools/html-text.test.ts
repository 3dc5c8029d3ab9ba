import { describe, expect, it } from 'vitest';
import { decodeEntities, htmlToText } from './html-text.js';
import { parseContentType, webPage } from './web-page.js';

describe('htmlToText', () => {
  it.each([
    [
      'drops scripts, styles, comments and templates',
      '<p>a<script>var x="<p>no</p>"</script>b</p><style>p{}</style><!-- c --><template><p>t</p></template>',
      'ab',
    ],
    [
      'puts blocks on their own lines and paragraphs apart',
      '<div>one</div><div>two</div><p>three</p><p>four</p>',
      'one\ntwo\n\nthree\n\nfour',
    ],
    ['marks list items', '<ul><li>a</li><li>b</li></ul>', '- a\n- b'],
    [
      'collapses whitespace but keeps it in <pre>',
      '<p>a \n\t b</p><pre>x  y\n  z</pre>',
      'a b\n\nx  y\n  z',
    ],
    ['breaks lines at <br>', 'a<br>b<br/>c', 'a\nb\nc'],
    [
      'skips attributes with > in quotes',
      '<a title="1 > 0" href=\'x>y\'>link</a> text',
      'link text',
    ],
    ['keeps a lone < as text', 'if a < b then', 'if a < b then'],
    ['survives an unclosed tag and an unclosed comment', 'ok <b class="x', 'ok'],
    ['ignores break marks smuggled in as text', 'a\uE001b\uE000c', 'abc'],
  ])('%s', (_name, html, text) => {
    expect(htmlToText(html).text).toBe(text);
  });

  it('reads the title apart from the body', () => {
    expect(
      htmlToText('<html><head><title> A &amp; B </title></head><body>x</body></html>'),
    ).toEqual({
      title: 'A & B',
      text: 'x',
    });
  });

  it('is linear on hostile nesting', () => {
    const html = '<div>'.repeat(50_000) + 'deep' + '</div>'.repeat(50_000);
    const started = Date.now();
    expect(htmlToText(html).text).toBe('deep');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('decodeEntities', () => {
  it.each([
    ['&lt;a&gt; &amp;amp;', '<a> &amp;'],
    ['&#233;&#xE9;&eacute;', 'ééé'],
    ['&#0; &#xD800; &#x110000;', '\uFFFD \uFFFD \uFFFD'],
    ['&unknown; & alone', '&unknown; & alone'],
  ])('%s', (input, output) => {
    expect(decodeEntities(input)).toBe(output);
  });
});

describe('webPage', () => {
  it('takes the charset from the header, then a BOM, then <meta>, else UTF-8', () => {
    const latin = Buffer.from('<p>\xe9</p>', 'latin1');
    expect(webPage(latin, 'text/html; charset="windows-1252"')).toMatchObject({
      text: 'é',
      charset: 'windows-1252',
    });
    const meta = Buffer.from('<html><head><meta charset="iso-8859-1"></head><p>\xe9</p>', 'latin1');
    expect(webPage(meta, 'text/html')).toMatchObject({ text: 'é', charset: 'iso-8859-1' });
    const httpEquiv = Buffer.from(
      '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>\xc1</p>',
      'latin1',
    );
    expect(webPage(httpEquiv, 'text/html')).toMatchObject({ text: 'а', charset: 'koi8-r' });
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<p>ü</p>')]);
    expect(webPage(bom, 'text/html; charset=iso-8859-1')).toMatchObject({
      text: 'ü',
      charset: 'utf-8',
    });
    expect(webPage(Buffer.from('<p>ü</p>'), 'text/html')).toMatchObject({
      text: 'ü',
      charset: 'utf-8',
    });
  });

  it('falls back to UTF-8 for a charset it does not know, and says so', () => {
    const r = webPage(Buffer.from('plain'), 'text/plain; charset=x-made-up');
    expect(r).toMatchObject({ ok: true, text: 'plain' });
    if (r.ok) expect(r.charset).toContain('unknown charset "x-made-up"');
  });

  it('reads JSON and plain text as they are, and refuses binary', () => {
    expect(webPage(Buffer.from('{"a":1}'), 'application/json')).toMatchObject({
      kind: 'text',
      text: '{"a":1}',
    });
    expect(webPage(Buffer.from('<b>x</b>'), 'text/plain')).toMatchObject({
      kind: 'text',
      text: '<b>x</b>',
    });
    expect(webPage(Buffer.from([0, 1, 2]), 'application/octet-stream')).toMatchObject({
      ok: false,
    });
    expect(webPage(Buffer.from([0, 1, 2]), undefined)).toMatchObject({ ok: false });
    expect(webPage(Buffer.from('<!DOCTYPE html><p>sniffed</p>'), undefined)).toMatchObject({
      kind: 'html',
      text: 'sniffed',
    });
  });

  it('parses Content-Type parameters', () => {
    expect(parseContentType('Text/HTML; Charset=UTF-8')).toEqual({
      mime: 'text/html',
      charset: 'utf-8',
    });
    expect(parseContentType('text/html; charset=a b')).toEqual({ mime: 'text/html' });
  });
});
