import { escapeForTerminal } from '../channels/terminal-escape.js';

/** pino's level numbers and the names `--level` takes. */
export const LOG_LEVELS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

const NAMES = new Map(Object.entries(LOG_LEVELS).map(([name, n]) => [n, name.toUpperCase()]));

/** A line longer than this is shown cut: the log holds short records, fields first. */
export const MAX_LOG_LINE_CHARS = 16 * 1024;

export interface LogFilter {
  /** Records below this pino level are left out. */
  minLevel: number;
  /** Only records of this group (field `group`, the group's name). */
  group?: string;
}

/**
 * One line of the pino log as a person reads it, `TIME LEVEL message key=value ...`, or
 * undefined when the filter leaves it out. A line that is not a record is shown as it is
 * (escaped), unless a filter needs fields it lacks. Every value is escaped: records carry
 * error text that a cell or a model may have chosen.
 */
export function formatLogLine(line: string, filter: LogFilter): string | undefined {
  const text = line.length > MAX_LOG_LINE_CHARS ? `${line.slice(0, MAX_LOG_LINE_CHARS)}…` : line;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    record = undefined;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    if (filter.minLevel > LOG_LEVELS.info! || filter.group !== undefined) return undefined;
    return escapeForTerminal(text, { singleLine: true });
  }
  const {
    level,
    time,
    msg,
    pid: _pid,
    hostname: _host,
    ...fields
  } = record as Record<string, unknown>;
  const levelNumber = typeof level === 'number' ? level : LOG_LEVELS.info!;
  if (levelNumber < filter.minLevel) return undefined;
  if (filter.group !== undefined && fields.group !== filter.group) return undefined;
  const when = typeof time === 'number' ? new Date(time).toISOString() : '-';
  const name = (NAMES.get(levelNumber) ?? String(levelNumber)).padEnd(5);
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`);
  const message = typeof msg === 'string' ? msg : '';
  return escapeForTerminal([when, name, message, ...rest].filter(Boolean).join(' '), {
    singleLine: true,
  });
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}
