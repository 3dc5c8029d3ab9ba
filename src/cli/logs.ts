import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand, ConfigCommandContext } from './command.js';
import { formatLogLine, LOG_LEVELS, MAX_LOG_LINE_CHARS, type LogFilter } from './log-format.js';

export const LOGS_USAGE = `usage: nanocell logs [-f] [-n N] [--group NAME] [--level LEVEL]
  The log (NANOCELL_HOME/logs/nanocell.log), one record a line: time (UTC), level, message,
  fields.
  -f, --follow     keep printing records as they are written (Ctrl-C to stop)
  -n, --lines N    how many records to print first (default 50)
  --group NAME     only the records of this group
  --level LEVEL    only records at this level or above: ${Object.keys(LOG_LEVELS).join(', ')}
`;

/** How much of the file's end is read for the first records: enough for thousands. */
const TAIL_BYTES = 8 * 1024 * 1024;

export interface LogsDeps {
  logFile: string;
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  /** Ends `--follow` (main never aborts it: Ctrl-C ends the process). */
  signal?: AbortSignal;
  /** Called once the first records are printed and, with -f, new ones are being watched. */
  onFollowing?: () => void;
}

export async function logsCommand(args: string[], deps: LogsDeps): Promise<number> {
  const usage = (problem: string) => {
    deps.err.write(`nanocell: ${problem}\n${LOGS_USAGE}`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        follow: { type: 'boolean', short: 'f' },
        lines: { type: 'string', short: 'n' },
        group: { type: 'string', short: 'g' },
        level: { type: 'string' },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  const lines = values.lines === undefined ? 50 : Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0 || lines > 100_000) {
    return usage(`-n must be a whole number from 0 to 100000, not "${values.lines}"`);
  }
  const level = values.level ?? 'trace';
  const minLevel = LOG_LEVELS[level];
  if (minLevel === undefined) {
    return usage(`--level must be one of ${Object.keys(LOG_LEVELS).join(', ')}, not "${level}"`);
  }
  const filter: LogFilter = { minLevel, group: values.group };
  if (!fs.existsSync(deps.logFile) && !values.follow) {
    deps.err.write(`nanocell: no log yet at ${deps.logFile}\n`);
    return 1;
  }
  const reader = new LogReader(deps.logFile, filter);
  if (!values.follow) {
    for (const l of reader.tail(lines)) deps.out.write(`${l}\n`);
    return 0;
  }
  await reader.follow(lines, (l) => deps.out.write(`${l}\n`), deps.signal, deps.onFollowing);
  return 0;
}

/** Reads the log by offset: its last records, then whatever is appended. Never the whole file. */
class LogReader {
  private offset = 0;
  private partial = '';

  constructor(
    private readonly file: string,
    private readonly filter: LogFilter,
  ) {}

  /** The last `n` records the filter keeps; the offset moves to the end. */
  tail(n: number): string[] {
    const size = this.size();
    const start = Math.max(0, size - TAIL_BYTES);
    this.offset = start;
    this.partial = '';
    // Started mid-file: the first piece is the end of a record cut in half.
    const shown = this.readNew(start > 0);
    return n === 0 ? [] : shown.slice(-n);
  }

  follow(
    n: number,
    print: (line: string) => void,
    signal: AbortSignal | undefined,
    onFollowing: (() => void) | undefined,
  ): Promise<void> {
    return new Promise((resolve) => {
      const dir = this.file.slice(0, this.file.lastIndexOf('/')) || '/';
      // Watch the folder, not the file: the log may not exist yet, or be replaced.
      const watcher = fs.watch(dir, () => {
        for (const l of this.readNew()) print(l);
      });
      const stop = () => {
        watcher.close();
        resolve();
      };
      if (signal?.aborted) return stop();
      signal?.addEventListener('abort', stop, { once: true });
      for (const l of this.tail(n)) print(l);
      onFollowing?.();
    });
  }

  private size(): number {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  /** Complete new lines since the offset, formatted and filtered. */
  private readNew(dropFirstPiece = false): string[] {
    const size = this.size();
    if (size < this.offset) {
      // Truncated or replaced: start again from its beginning.
      this.offset = 0;
      this.partial = '';
    }
    if (size === this.offset) return [];
    const fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    let text: string;
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, TAIL_BYTES));
      const read = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += read;
      text = this.partial + buf.subarray(0, read).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
    const pieces = text.split('\n');
    if (dropFirstPiece) pieces.shift();
    this.partial = pieces.pop() ?? '';
    // One endless line must not grow without bound: show it cut.
    if (this.partial.length > MAX_LOG_LINE_CHARS) {
      pieces.push(this.partial);
      this.partial = '';
    }
    const shown: string[] = [];
    for (const p of pieces) {
      if (p === '') continue;
      const line = formatLogLine(p, this.filter);
      if (line !== undefined) shown.push(line);
    }
    return shown;
  }
}

export const logsCli = {
  name: 'logs',
  summary: 'the log, pretty-printed ([-f] [-n N] [--group G] [--level L])',
  usage: LOGS_USAGE,
  needs: 'config',
  run: (args: string[], ctx: ConfigCommandContext) =>
    logsCommand(args, {
      logFile: path.join(ctx.config.home, 'logs', 'nanocell.log'),
      out: ctx.out,
      err: ctx.err,
    }),
} satisfies CliCommand;
