import { splitMessage } from '../split-message.js';

/** Telegram's limit on a message's text after entity parsing, in characters. */
export const TELEGRAM_MAX_CHARS = 4096;
/** Telegram's limit on a file's caption after entity parsing. */
export const TELEGRAM_MAX_CAPTION_CHARS = 1024;

const FENCE = /^\s*(```+|~~~+)\s*([\w+#.-]*)\s*$/;

/** `& < >` as Telegram's HTML parse mode wants them; nothing else needs escaping there. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The model's simple markdown as Telegram HTML: ``` blocks ``` become <pre>, `code` becomes
 * <code>, **bold** becomes <b>; everything else is escaped text. An unclosed block runs to
 * the end, so every result parses (Telegram refuses a message whose HTML does not).
 */
export function markdownToHtml(text: string): string {
  const out: string[] = [];
  let block: { language: string; lines: string[] } | null = null;
  const closeBlock = () => {
    if (!block) return;
    const code = escapeHtml(block.lines.join('\n'));
    out.push(
      block.language
        ? `<pre><code class="language-${block.language}">${code}</code></pre>`
        : `<pre>${code}</pre>`,
    );
    block = null;
  };
  for (const line of text.split('\n')) {
    const fence = FENCE.exec(line);
    if (block) {
      if (fence && fence[2] === '') closeBlock();
      else block.lines.push(line);
    } else if (fence) {
      block = { language: fence[2]!, lines: [] };
    } else {
      out.push(inlineHtml(line));
    }
  }
  closeBlock();
  return out.join('\n');
}

/** One line outside a code block: `code` spans, then **bold** in the text between them. */
function inlineHtml(line: string): string {
  return line
    .split(/(`[^`\n]+`)/)
    .map((piece, i) =>
      i % 2 === 1
        ? `<code>${escapeHtml(piece.slice(1, -1))}</code>`
        : escapeHtml(piece).replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, '<b>$1</b>'),
    )
    .join('');
}

/**
 * A message as Telegram HTML parts of at most `limit` visible characters. The markdown is cut
 * first (a code block cut in two is closed and reopened), then each part converted: markup
 * only ever shortens the visible text, so every part fits.
 */
export function htmlParts(text: string, limit = TELEGRAM_MAX_CHARS): string[] {
  return splitMessage(text, limit).map(markdownToHtml);
}

/** One part only (an edit, a caption): cut with an ellipsis when the text is longer. */
export function htmlCut(text: string, limit = TELEGRAM_MAX_CHARS): string {
  return markdownToHtml(text.length > limit ? `${text.slice(0, limit - 1)}…` : text);
}
