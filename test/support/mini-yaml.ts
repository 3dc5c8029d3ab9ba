/**
 * Just enough YAML to read deploy/compose.yaml in a test (no YAML package is installed): block
 * maps and lists, scalars (quoted or plain), flow lists `[a, b]`, comments, an anchor on a map
 * (`x: &name`) and its merge (`<<: *name`). Anything else throws, so the test cannot pass on a
 * file it did not understand.
 */
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  n: number;
}

export function parseMiniYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '') return;
    if (/\t/.test(raw.slice(0, raw.length - raw.trimStart().length))) {
      throw new Error(`line ${i + 1}: tab in indentation`);
    }
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), n: i + 1 });
  });
  const anchors = new Map<string, YamlValue>();
  let at = 0;

  function block(indent: number): YamlValue {
    const first = lines[at];
    if (!first || first.indent < indent) return '';
    return first.text.startsWith('- ') ? list(first.indent) : map(first.indent);
  }

  function list(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    while (at < lines.length && lines[at]!.indent === indent && lines[at]!.text.startsWith('- ')) {
      const line = lines[at++]!;
      const item = line.text.slice(2).trim();
      if (/^[A-Za-z_][\w.-]*:( |$)/.test(item))
        throw new Error(`line ${line.n}: maps in lists are not supported`);
      out.push(scalar(item, line.n));
    }
    return out;
  }

  function map(indent: number): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    while (at < lines.length && lines[at]!.indent === indent) {
      const line = lines[at++]!;
      const m = /^('[^']*'|"[^"]*"|[^:\s][^:]*?):(?:\s+(.*))?$/.exec(line.text);
      if (!m) throw new Error(`line ${line.n}: expected KEY: VALUE, got "${line.text}"`);
      const key = unquote(m[1]!);
      const rest = (m[2] ?? '').trim();
      if (key === '<<') {
        const ref = /^\*([\w-]+)$/.exec(rest);
        const merged = ref && anchors.get(ref[1]!);
        if (!merged || typeof merged !== 'object' || Array.isArray(merged)) {
          throw new Error(`line ${line.n}: merge of an unknown anchor`);
        }
        for (const [k, v] of Object.entries(merged)) if (!(k in out)) out[k] = v;
        continue;
      }
      const anchor = /^&([\w-]+)$/.exec(rest);
      if (rest === '' || anchor) {
        const next = lines[at];
        const value = next && next.indent > indent ? block(next.indent) : '';
        if (anchor) anchors.set(anchor[1]!, value);
        out[key] = value;
      } else {
        out[key] = scalar(rest, line.n);
      }
    }
    if (at < lines.length && lines[at]!.indent > indent) {
      throw new Error(`line ${lines[at]!.n}: unexpected indentation`);
    }
    return out;
  }

  const value = block(0);
  if (at !== lines.length) throw new Error(`line ${lines[at]!.n}: not understood`);
  return value;
}

function scalar(text: string, n: number): YamlValue {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${n}: unclosed flow list`);
    const inner = text.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((s) => unquote(s.trim()));
  }
  if (/^[&*|>{]/.test(text)) throw new Error(`line ${n}: "${text}" is not supported`);
  return unquote(text);
}

function unquote(text: string): string {
  const q = text[0];
  return (q === '"' || q === "'") && text.endsWith(q) && text.length >= 2
    ? text.slice(1, -1)
    : text;
}

/** A `#` outside quotes that starts the line or follows a space starts a comment. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}
