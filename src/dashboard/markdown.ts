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
    for (const img of fragment.querySelectorAll('img')) {
      // Only our own files (a file the chat was sent): an image from elsewhere would tell
      // that server what the reply said. The CSP blocks it too; this says so in the reply.
      const src = img.getAttribute('src') ?? '';
      if (src.startsWith('/api/chats/')) continue;
      const note = window.document.createElement('span');
      note.className = 'blocked-image';
      note.textContent = `[image not loaded: ${img.getAttribute('alt') || 'from another site'}]`;
      img.replaceWith(note);
    }
    const box = window.document.createElement('div');
    box.append(fragment);
    return box.innerHTML;
  };
}
