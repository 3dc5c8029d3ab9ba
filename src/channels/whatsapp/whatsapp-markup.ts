const FENCE = /^\s*```/;
// One pass, so `**bold**` turned into `*bold*` is not read again as italics.
const INLINE =
  /(`[^`\n]+`)|\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__|(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])|~~(?=\S)(.+?)(?<=\S)~~|\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g;
const HEADING = /^#{1,6}\s+(.+?)\s*#*$/;

/**
 * Markdown as the model writes it, in WhatsApp's own markup: `**bold**` → `*bold*`,
 * `*italic*` → `_italic_`, `~~struck~~` → `~struck~`, `# Heading` → `*Heading*`,
 * `[text](url)` → `text (url)`. Code (inline and ``` blocks) is kept as it is: WhatsApp
 * shows both as monospace.
 */
export function toWhatsAppMarkup(markdown: string): string {
  let inBlock = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (FENCE.test(line)) {
        inBlock = !inBlock;
        return line;
      }
      if (inBlock) return line;
      const heading = HEADING.exec(line);
      return heading ? `*${heading[1]!.replace(/\*\*/g, '')}*` : inline(line);
    })
    .join('\n');
}

function inline(line: string): string {
  return line.replace(
    INLINE,
    (
      whole,
      code?: string,
      bold?: string,
      under?: string,
      italic?: string,
      struck?: string,
      label?: string,
      url?: string,
    ) => {
      if (code) return code;
      if (bold ?? under) return `*${bold ?? under}*`;
      if (italic) return `_${italic}_`;
      if (struck) return `~${struck}~`;
      if (label && url) return `${label} (${url})`;
      return whole;
    },
  );
}
