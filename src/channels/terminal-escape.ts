/**
 * Text from a model, a chat member or a cell made safe to print on the owner's terminal.
 * ESC (and so every CSI/OSC/DCS sequence), the other C0 controls but newline and tab, DEL,
 * the C1 controls (8-bit CSI, OSC, ...) and the bidi controls are shown as visible escapes,
 * so untrusted text cannot move the cursor, recolour or clear the screen, set the window
 * title, write the clipboard (OSC 52), fake a link (OSC 8), return to the start of a line
 * to overwrite it, or reorder what the owner reads (Trojan Source).
 */

// C0, DEL and C1 (\t and \n are kept by visible()); ALM; LRM/RLM; LRE/RLE/PDF/LRO/RLO;
// LRI/RLI/FSI/PDI.
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function escapeForTerminal(text: string, options: { singleLine?: boolean } = {}): string {
  // A CR right before LF only ends a line (CRLF); anywhere else it rewinds the line.
  const out = text.replace(/\r\n/g, '\n').replace(UNSAFE, visible);
  // In a one-line-per-item listing a newline would let the text fake the next item.
  return options.singleLine ? out.replace(/\n/g, '\\n').replace(/\t/g, '\\t') : out;
}

function visible(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  if (c === '\n' || c === '\t') return c;
  if (c === '\r') return '\\r';
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}
