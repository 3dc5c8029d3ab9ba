import DOMPurify from 'dompurify';
import { Marked } from 'marked';

/** Model output is untrusted: GitHub-flavoured markdown, then sanitised, links made safe. */
export function makeMarkdownRenderer(window: Window & typeof globalThis): (text: string) => string {
  const marked = new Marked({ gfm: true, breaks: true, async: false });
  const purify = DOMPurify(window);
  return (text) => {
    const html = marked.parse(text) as string;
    const fragment = purify.sanitize(html, {
      RETURN_DOM_FRAGMENT: true,
      FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
      FORBID_ATTR: ['style'],
    });
    for (const link of fragment.querySelectorAll('a')) {
      // A new tab that cannot reach back into this page, and sends no address of ours.
      link.setAttribute('target', '_blank');
      link.setAttribute('rel', 'noopener noreferrer');
    }
    const box = window.document.createElement('div');
    box.append(fragment);
    return box.innerHTML;
  };
}
