/** How far back `--since` may reach: ten years. */
const MAX_DAYS = 3660;

export type SinceResult = { ok: true; since: Date } | { ok: false; problem: string };

/**
 * `--since`: a span back from `now` (`24h`, `7d`, `30d`) or a UTC day (`2026-12-01`, from its
 * midnight). Anything else, a day that does not exist or one in the future, is a problem that
 * says what to write instead.
 */
export function parseSince(text: string, now: Date): SinceResult {
  const how = 'use a span like 24h, 7d or 30d, or a day like 2026-12-01 (UTC)';
  const span = /^(\d{1,5})([hd])$/.exec(text.trim());
  if (span) {
    const n = Number(span[1]);
    const hours = span[2] === 'h' ? n : n * 24;
    if (n === 0 || hours > MAX_DAYS * 24) {
      return { ok: false, problem: `--since ${text}: from 1h up to ${MAX_DAYS}d; ${how}` };
    }
    return { ok: true, since: new Date(now.getTime() - hours * 3_600_000) };
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const since = new Date(Date.UTC(y, m - 1, d));
    if (since.getUTCFullYear() !== y || since.getUTCMonth() !== m - 1 || since.getUTCDate() !== d) {
      return { ok: false, problem: `--since ${text}: there is no such day; ${how}` };
    }
    if (since.getTime() > now.getTime()) {
      return { ok: false, problem: `--since ${text}: that day is in the future; ${how}` };
    }
    return { ok: true, since };
  }
  return { ok: false, problem: `--since "${text}" is not a span or a day; ${how}` };
}
