/** A wall-clock date and time, as written by a person in some timezone (month 1-12). */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Whether Intl (and so croner, which uses it) knows the IANA timezone name. */
export function checkTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    // Intl throws a RangeError for a name it does not know; that is the answer, not a failure.
    return false;
  }
}

/** The wall-clock time at `instant` in `timezone` (a name checkTimezone accepted). */
export function localTimeAt(instant: Date, timezone: string): LocalDateTime {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instant);
  const field = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value ?? NaN);
  return {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
    second: field('second'),
  };
}

const asUtcMs = (t: LocalDateTime): number =>
  Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);

const sameLocalTime = (a: LocalDateTime, b: LocalDateTime): boolean => asUtcMs(a) === asUtcMs(b);

const DAY_MS = 86_400_000;

/**
 * Every instant at which the clocks in `timezone` show `local`, earliest first: none when
 * the time falls in a daylight-saving gap, two when it falls in the hour that repeats.
 * Offsets change at most twice a year, so the offsets a day before and a day after the
 * naive instant are the only candidates.
 */
export function instantsOf(local: LocalDateTime, timezone: string): Date[] {
  const naive = asUtcMs(local);
  const offsetAt = (ms: number): number => asUtcMs(localTimeAt(new Date(ms), timezone)) - ms;
  const offsets = new Set([offsetAt(naive - DAY_MS), offsetAt(naive), offsetAt(naive + DAY_MS)]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = naive - offset;
    if (sameLocalTime(localTimeAt(new Date(candidate), timezone), local)) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b).map((ms) => new Date(ms));
}

/**
 * Where the clocks are when a person meant `local` but it fell in a daylight-saving gap:
 * the same distance past the gap's end (02:30 in a 02:00-03:00 gap gives 03:30).
 */
export function pastTheGap(local: LocalDateTime, timezone: string): Date {
  const naive = asUtcMs(local);
  const offsetBefore = asUtcMs(localTimeAt(new Date(naive - DAY_MS), timezone)) - (naive - DAY_MS);
  return new Date(naive - offsetBefore);
}

/** True when the fields name a real calendar date and time (no 30 February, no 24:00). */
export function isRealLocalTime(t: LocalDateTime): boolean {
  const d = new Date(asUtcMs(t));
  return (
    t.hour < 24 &&
    t.minute < 60 &&
    t.second < 60 &&
    d.getUTCFullYear() === t.year &&
    d.getUTCMonth() === t.month - 1 &&
    d.getUTCDate() === t.day
  );
}

/** `2026-03-29T09:00` (seconds only when not zero), the form people write local times in. */
export function formatLocal(t: LocalDateTime): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const base = `${String(t.year).padStart(4, '0')}-${two(t.month)}-${two(t.day)}T${two(t.hour)}:${two(t.minute)}`;
  return t.second === 0 ? base : `${base}:${two(t.second)}`;
}
