/**
 * HTML to readable text for web_fetch: what a person would read on the page, not its markup.
 * Untrusted input: a linear scan with no recursion, nothing evaluated, and a page of any shape
 * ends in bounded text (the caller caps the bytes it hands in).
 */

/** Elements whose content is never text a reader sees. */
const HIDDEN = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'iframe',
  'object',
  'canvas',
  'select',
]);

/** Elements that start and end a block: a line break around them. */
const BLOCK = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'dd',
  'details',
  'dialog',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'html',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'ul',
]);

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  deg: '°',
  times: '×',
  divide: '÷',
  auml: 'ä',
  ouml: 'ö',
  uuml: 'ü',
  Auml: 'Ä',
  Ouml: 'Ö',
  Uuml: 'Ü',
  szlig: 'ß',
  eacute: 'é',
  egrave: 'è',
  agrave: 'à',
  ccedil: 'ç',
};

/** Character references (`&amp;`, `&#233;`, `&#x1F600;`) to the characters they stand for. */
export function decodeEntities(text: string): string {
  return text.replace(
    /&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g,
    (m, ref: string) => {
      if (ref.startsWith('#')) {
        const code =
          ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
        // Invalid, surrogate and NUL code points become the replacement character, as browsers do.
        if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD';
        return String.fromCodePoint(code);
      }
      return NAMED[ref] ?? m;
    },
  );
}

export interface PageText {
  title: string;
  text: string;
}

/**
 * The page's title and its visible text: hidden elements dropped, blocks on their own lines,
 * list items marked, whitespace collapsed but kept inside <pre>, entities decoded.
 */
export function htmlToText(html: string): PageText {
  const out: string[] = [];
  let title = '';
  let hiddenUntil = ''; // the closing tag that ends hidden content
  let inTitle = false;
  let pre = 0;
  let i = 0;
  const n = html.length;

  const emit = (raw: string): void => {
    // Characters from the page never pass for the break marks below.
    const text = decodeEntities(raw).replace(/[\uE000\uE001]/g, '');
    out.push(pre > 0 ? text : text.replace(/[\s\u00a0]+/g, ' '));
  };
  // Block edges are marks, resolved by tidy(): many edges in a row make one line break, or
  // one blank line when a paragraph or heading is among them.
  const breakLine = (): void => {
    out.push(SOFT_BREAK);
  };

  while (i < n) {
    const lt = html.indexOf('<', i);
    const end = lt === -1 ? n : lt;
    if (end > i) {
      const chunk = html.slice(i, end);
      if (inTitle) title += chunk;
      else if (!hiddenUntil) emit(chunk);
    }
    if (lt === -1) break;
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      i = close === -1 ? n : close + 3;
      continue;
    }
    if (html[lt + 1] === '!' || html[lt + 1] === '?') {
      const close = html.indexOf('>', lt);
      i = close === -1 ? n : close + 1;
      continue;
    }
    const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/.exec(html.slice(lt, lt + 40));
    if (!m) {
      // A lone "<" is text.
      if (inTitle) title += '<';
      else if (!hiddenUntil) emit('<');
      i = lt + 1;
      continue;
    }
    const close = tagEnd(html, lt + m[0].length);
    i = close;
    const closing = m[1] === '/';
    const name = m[2]!.toLowerCase();
    const selfClosing = html[close - 2] === '/';
    if (hiddenUntil) {
      if (closing && name === hiddenUntil) hiddenUntil = '';
      continue;
    }
    if (name === 'title') {
      inTitle = !closing && !selfClosing;
      continue;
    }
    if (HIDDEN.has(name)) {
      if (!closing && !selfClosing) hiddenUntil = name;
      continue;
    }
    if (name === 'br') {
      out.push('\n');
      continue;
    }
    if (name === 'pre') pre = Math.max(0, pre + (closing ? -1 : 1));
    if (BLOCK.has(name)) {
      breakLine();
      if (!closing && name === 'li') out.push('- ');
      if (!closing && (name === 'td' || name === 'th')) out.push(' ');
      if (name === 'p' || /^h[1-6]$/.test(name)) out.push(PARAGRAPH_BREAK);
    }
  }
  return { title: decodeEntities(title).replace(/\s+/g, ' ').trim(), text: tidy(out.join('')) };
}

/** Index just past the `>` that ends a tag, quoted attribute values skipped. */
function tagEnd(html: string, from: number): number {
  let quote = '';
  for (let j = from; j < html.length; j++) {
    const c = html[j];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return j + 1;
    }
  }
  return html.length;
}

// Private-use characters, removed from the page's own text.
const SOFT_BREAK = '\uE000';
const PARAGRAPH_BREAK = '\uE001';

/** Breaks resolved, trailing spaces off each line, at most one blank line in a row. */
function tidy(marked: string): string {
  const text = marked.replace(/[ \t]*[\uE000\uE001][\uE000\uE001 \t]*/g, (run) =>
    run.includes(PARAGRAPH_BREAK) ? '\n\n' : '\n',
  );
  return text
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/g, '').replace(/^ +(?=- )/, ''))
    .map((l) => (l.trim() === '' ? '' : l.replace(/^ (?! )/, '')))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
