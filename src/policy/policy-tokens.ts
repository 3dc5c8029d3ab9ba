/** One word of a policy line: a bare word (`allow`, `bash`) or a `key=value` matcher. */
export type Token =
  { kind: 'word'; text: string } | { kind: 'pair'; key: string; value: string; raw: string };

export type TokenizedLine =
  { ok: true; tokens: Token[]; text: string } | { ok: false; message: string };

/**
 * Split one line into words and `key=value` pairs. Values may be double-quoted (`\"` and
 * `\\` are the only escapes; any other backslash is kept as written). `#` starts a comment
 * where a word could start. `text` is the line without its comment, for explanations.
 */
export function tokenizeLine(line: string): TokenizedLine {
  const tokens: Token[] = [];
  let i = 0;
  let end = 0;
  while (i < line.length) {
    if (/\s/.test(line[i] ?? '')) {
      i++;
      continue;
    }
    if (line[i] === '#') break;
    const start = i;
    let key: string | undefined;
    let value = '';
    while (i < line.length && !/\s/.test(line[i] ?? '')) {
      const ch = line[i] ?? '';
      if (ch === '=' && key === undefined) {
        key = value;
        value = '';
        i++;
        if (line[i] === '"') {
          const quoted = readQuoted(line, i);
          if (!quoted.ok) return quoted;
          value = quoted.value;
          i = quoted.next;
          if (i < line.length && !/\s/.test(line[i] ?? '')) {
            return {
              ok: false,
              message: `unexpected text after the closing quote of a value; put a space between matchers`,
            };
          }
          break;
        }
        continue;
      }
      if (ch === "'") {
        return {
          ok: false,
          message: `single quotes are not supported; use double quotes, e.g. command="git *"`,
        };
      }
      if (ch === '"') {
        return {
          ok: false,
          // The word is not repeated: it may be a secret pasted into the wrong file.
          message: `a quote must open a whole value, e.g. command="git *" (found one inside word ${tokens.length + 1})`,
        };
      }
      value += ch;
      i++;
    }
    const raw = line.slice(start, i);
    tokens.push(
      key === undefined ? { kind: 'word', text: value } : { kind: 'pair', key, value, raw },
    );
    end = i;
  }
  return { ok: true, tokens, text: line.slice(0, end).trim() };
}

function readQuoted(
  line: string,
  open: number,
): { ok: true; value: string; next: number } | { ok: false; message: string } {
  let value = '';
  for (let i = open + 1; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') return { ok: true, value, next: i + 1 };
    if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
      value += line[i + 1];
      i++;
      continue;
    }
    value += ch;
  }
  return {
    ok: false,
    message: `unterminated quote: add the closing " (write \\" for a quote inside a value)`,
  };
}
