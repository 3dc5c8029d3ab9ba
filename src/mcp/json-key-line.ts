/**
 * The line (1-based) where a key path of a valid JSON text starts, so a schema error in a
 * config file can say "line 7" next to the key. The deepest part of the path that exists is
 * used: for a missing key, the line of the object that lacks it.
 */
export function jsonKeyLine(text: string, keyPath: readonly PropertyKey[]): number {
  const walker = new Walker(text);
  walker.space();
  let found = walker.pos;
  for (const key of keyPath) {
    const at = walker.enter(key);
    if (at === undefined) break;
    found = at;
  }
  return lineAt(text, found);
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

class Walker {
  pos = 0;

  constructor(private readonly text: string) {}

  space(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  /** Move to the value under `key` of the value at pos; the key's offset, or undefined. */
  enter(key: PropertyKey): number | undefined {
    const open = this.text[this.pos];
    if (open !== '{' && open !== '[') return undefined;
    this.pos++;
    for (let index = 0; ; index++) {
      this.space();
      if (this.text[this.pos] === '}' || this.text[this.pos] === ']') return undefined;
      const start = this.pos;
      let name: string | number = index;
      if (open === '{') {
        name = JSON.parse(this.text.slice(start, this.stringEnd())) as string;
        this.space();
        this.pos++; // ':'
        this.space();
      }
      if (name === key) return start;
      this.skipValue();
      this.space();
      if (this.text[this.pos] !== ',') return undefined;
      this.pos++;
    }
  }

  /** The offset just past the string at pos (which must be one), moving pos there. */
  private stringEnd(): number {
    this.pos++;
    while (this.pos < this.text.length && this.text[this.pos] !== '"') {
      this.pos += this.text[this.pos] === '\\' ? 2 : 1;
    }
    this.pos++;
    return this.pos;
  }

  private skipValue(): void {
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '"') {
        this.stringEnd();
        if (depth === 0) return;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) return;
        depth--;
        if (depth === 0) {
          this.pos++;
          return;
        }
      } else if (depth === 0 && c === ',') return;
      this.pos++;
    }
  }
}
