/**
 * The owner's config file (`NANOCELL_CONFIG_DIR/config`): the same settings as the
 * environment, one `KEY=VALUE` a line, written by hand or by `nanocell config set`.
 *
 * Format: blank lines and lines starting with `#` are ignored; a `#` elsewhere is part of
 * the value (keys and tokens may contain one). A value may be wrapped in "double" or
 * 'single' quotes to keep leading or trailing spaces; there are no escapes. Pure text in,
 * values out: reading and writing the file happens in config.ts and the CLI.
 */

/** A config file larger than this is refused: it is a short list of settings. */
export const MAX_CONFIG_FILE_BYTES = 64 * 1024;

export interface ConfigFileEntry {
  value: string;
  /** 1-based line number, for messages that point at the line to fix. */
  line: number;
}

export interface ParsedConfigFile {
  entries: Map<string, ConfigFileEntry>;
  /** Every problem, each naming its line and how to fix it. */
  problems: string[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parse the file's text. `knownKeys` are the settings the schema takes; `refusedKeys` maps a
 * key that must not be set here to the reason (NANOCELL_CONFIG_DIR: the file lives in it).
 */
export function parseConfigFile(
  text: string,
  knownKeys: readonly string[],
  refusedKeys: ReadonlyMap<string, string> = new Map(),
): ParsedConfigFile {
  const entries = new Map<string, ConfigFileEntry>();
  const problems: string[] = [];
  if (Buffer.byteLength(text) > MAX_CONFIG_FILE_BYTES) {
    return {
      entries,
      problems: [
        `is larger than ${MAX_CONFIG_FILE_BYTES / 1024} KiB; it should hold settings only`,
      ],
    };
  }
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) {
      problems.push(`line ${line}: expected KEY=VALUE (e.g. NANOCELL_MODEL=claude-sonnet-5-5)`);
      return;
    }
    const key = trimmed.slice(0, eq).trim();
    if (!KEY.test(key)) {
      problems.push(`line ${line}: the key must be a setting name such as NANOCELL_WEB_PORT`);
      return;
    }
    const refused = refusedKeys.get(key);
    if (refused) {
      problems.push(`line ${line}: ${key} ${refused}`);
      return;
    }
    if (!knownKeys.includes(key)) {
      const guess = closestKey(key, knownKeys);
      problems.push(
        `line ${line}: ${key} is not a nanocell setting${guess ? ` (did you mean ${guess}?)` : ''}; see README.md (Configuration) for the list`,
      );
      return;
    }
    const previous = entries.get(key);
    if (previous) {
      problems.push(`line ${line}: ${key} is already set on line ${previous.line}; keep one`);
      return;
    }
    const value = unquote(trimmed.slice(eq + 1).trim());
    if (value === undefined) {
      problems.push(`line ${line}: ${key}'s value opens a quote it does not close`);
      return;
    }
    entries.set(key, { value, line });
  });
  return { entries, problems };
}

/**
 * The file's text with KEY set to VALUE: the existing line is replaced in place (comments and
 * the order of the others kept), or a line is appended.
 */
export function setConfigValue(text: string, key: string, value: string): string {
  const line = `${key}=${quoteIfNeeded(value)}`;
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const at = lines.findIndex((l) => {
    const t = l.trim();
    return !t.startsWith('#') && t.slice(0, t.indexOf('=')).trim() === key;
  });
  if (at === -1) lines.push(line);
  else lines[at] = line;
  return `${lines.join('\n')}\n`;
}

function unquote(value: string): string | undefined {
  const q = value[0];
  if (q !== '"' && q !== "'") return value;
  if (value.length < 2 || value[value.length - 1] !== q) return undefined;
  return value.slice(1, -1);
}

function quoteIfNeeded(value: string): string {
  if (value !== value.trim() || value.startsWith('"') || value.startsWith("'")) {
    return value.includes('"') ? `'${value}'` : `"${value}"`;
  }
  return value;
}

/** The known key nearest to a typo (at most two edits away), if any. */
export function closestKey(key: string, knownKeys: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of knownKeys) {
    const d = editDistance(key.toUpperCase(), known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}
