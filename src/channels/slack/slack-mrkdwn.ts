/**
 * Slack's mrkdwn for the model's Markdown: `**bold**` → `*bold*`, `*italic*` → `_italic_`,
 * `~~gone~~` → `~gone~`, `# heading` → `*heading*`, `[text](https://…)` → `<https://…|text>`;
 * code spans and fenced blocks are kept as they are (a fence loses its language, which Slack
 * would show as text). `&`, `<` and `>` are escaped everywhere, so model output can never
 * form a mention (`<!channel>`, `<@U…>`) or a link Slack did not get from us.
 */
export function toMrkdwn(markdown: string): string {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const opening = /^\s*(```+|~~~+)/.exec(line);
    if (fence === null && opening) {
      fence = opening[1]!;
      out.push('```');
    } else if (fence !== null && line.trim() === fence) {
      fence = null;
      out.push('```');
    } else if (fence !== null) {
      out.push(escapeMrkdwn(line));
    } else {
      out.push(convertLine(line));
    }
  }
  return out.join('\n');
}

/** The three characters Slack reads as control sequences. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack's escapes undone, for text that came from Slack. */
export function unescapeMrkdwn(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function convertLine(line: string): string {
  const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
  if (heading) return `*${convertInline(heading[1]!)}*`;
  return convertInline(line);
}

/** Code spans are kept; formatting is converted only between them. */
function convertInline(text: string): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((piece, i) => (i % 2 === 1 ? escapeMrkdwn(piece) : convertFormatting(piece)))
    .join('');
}

function convertFormatting(text: string): string {
  return escapeMrkdwn(text)
    .replace(/\[([^\]|<>\n]{1,200})\]\((https?:\/\/[^\s()|<>]{1,2000})\)/g, '<$2|$1>')
    .replace(/(?<![*\w])\*(?![*\s])([^*\n]+?)(?<!\s)\*(?![*\w])/g, '_$1_')
    .replace(/\*\*(?!\s)([^*\n]+?)(?<!\s)\*\*/g, '*$1*')
    .replace(/(?<!\w)__(?!\s)([^_\n]+?)(?<!\s)__(?!\w)/g, '*$1*')
    .replace(/~~(?!\s)([^~\n]+?)(?<!\s)~~/g, '~$1~');
}
