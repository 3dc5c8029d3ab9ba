/** Where a JSON text first breaks the grammar, 1-based, and what was expected there. */
export interface JsonSyntaxError {
  line: number;
  column: number;
  problem: string;
}

const MAX_DEPTH = 512;

/**
 * Node 20's JSON.parse often reports no position at all ("Unexpected token '}', ... is not
 * valid JSON"), which leaves the owner hunting through a config file. This scanner follows
 * the JSON grammar only far enough to find the first offending character. Returns undefined
 * when the text is valid JSON.
 */
export function locateJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const scanner = new Scanner(text);
  if (scanner.document()) return undefined;
  const { line, column } = lineColumn(text, scanner.pos);
  return { line, column, problem: scanner.problem };
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class Scanner {
  pos = 0;
  problem = '';

  constructor(private readonly text: string) {}

  document(): boolean {
    if (!this.value(0)) return false;
    this.skipSpace();
    return (
      this.pos >= this.text.length || this.fail('unexpected text after the end of the JSON value')
    );
  }

  private value(depth: number): boolean {
    if (depth > MAX_DEPTH) return this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return true;
      }
    }
    return this.fail(
      c === undefined
        ? 'the text ends where a value was expected'
        : `expected a value (string, number, object, list, true, false or null) but found ${describe(c)}`,
    );
  }

  private object(depth: number): boolean {
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return true;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') {
        return this.fail(`expected a key in double quotes but found ${this.found()}`);
      }
      if (!this.string()) return false;
      this.skipSpace();
      if (this.text[this.pos] !== ':') return this.fail(`expected ':' but found ${this.found()}`);
      this.pos++;
      if (!this.value(depth + 1)) return false;
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return true;
      if (c !== ',') {
        this.pos--;
        return this.fail(`expected ',' or '}' but found ${this.found()}`);
      }
      this.skipSpace();
      if (this.text[this.pos] === '}') return this.fail("a trailing ',' before '}' is not allowed");
    }
  }

  private array(depth: number): boolean {
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return true;
    }
    for (;;) {
      if (!this.value(depth + 1)) return false;
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return true;
      if (c !== ',') {
        this.pos--;
        return this.fail(`expected ',' or ']' but found ${this.found()}`);
      }
      this.skipSpace();
      if (this.text[this.pos] === ']') return this.fail("a trailing ',' before ']' is not allowed");
    }
  }

  private string(): boolean {
    this.pos++;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) return this.fail('the text ends inside a string: close it with "');
      if (c === '"') {
        this.pos++;
        return true;
      }
      if (c < ' ')
        return this.fail('a string may not contain a raw line break or control character');
      if (c === '\\') {
        const e = this.text[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
            return this.fail('\\u must be followed by four hex digits');
          }
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          return this.fail(`invalid escape in a string: write \\\\ for a backslash`);
        }
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
  }

  private number(): boolean {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos));
    if (!match || match[0] === '-') return this.fail('malformed number');
    this.pos += match[0].length;
    return true;
  }

  private skipSpace(): void {
    while (/[ \t\n\r]/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private found(): string {
    const c = this.text[this.pos];
    return c === undefined ? 'the end of the text' : describe(c);
  }

  private fail(problem: string): false {
    this.problem = problem;
    return false;
  }
}

function describe(c: string): string {
  if (c === "'") return `"'" (JSON strings use double quotes)`;
  if (c === '/') return "'/' (JSON has no comments)";
  return `'${c}'`;
}
