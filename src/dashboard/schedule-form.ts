/** What the new-task form holds; turned into the schedule object the host checks. */
export interface ScheduleForm {
  kind: 'cron' | 'interval' | 'once';
  /** cron: five fields, e.g. `0 9 * * 1-5`. */
  expr: string;
  /** interval: whole minutes. */
  everyMinutes: string;
  /** once: a `datetime-local` value, `2026-05-01T09:00`. */
  at: string;
  /** cron and once: an IANA zone; empty means the owner's (the host's) zone. */
  timezone: string;
}

export const EMPTY_SCHEDULE: ScheduleForm = {
  kind: 'cron',
  expr: '0 9 * * *',
  everyMinutes: '60',
  at: '',
  timezone: '',
};

/**
 * The schedule as the host takes it. Nothing is judged here: the host's answer (the same
 * messages as the schedule_task tool's) is shown beside the field, so there is one rule set.
 * A minutes field that is not a whole number is sent as it is and refused there.
 */
export function scheduleOf(form: ScheduleForm): Record<string, unknown> {
  const zone = form.timezone.trim() ? { timezone: form.timezone.trim() } : {};
  switch (form.kind) {
    case 'cron':
      return { kind: 'cron', expr: form.expr, ...zone };
    case 'interval': {
      const text = form.everyMinutes.trim();
      const minutes = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
      return {
        kind: 'interval',
        everyMs: Number.isNaN(minutes) ? text : minutes * 60_000,
      };
    }
    case 'once':
      return { kind: 'once', at: form.at, ...zone };
  }
}

/** An instant as the owner reads it in `timezone`, e.g. `Mon, 2 Mar 2026, 09:00`. */
export function inZone(iso: string, timezone: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone: timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

/** `512 KB`, `41.9 MB`, or `unknown` for memory that could not be measured. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'unknown';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** How long ago, coarsely: `12 s`, `4 min`, `3 h 5 min`. */
export function formatAge(fromIso: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(fromIso)) / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** A run's duration, or `running` while it has not finished. */
export function formatDuration(startedAt: string, finishedAt: string | null): string {
  if (finishedAt === null) return 'running';
  const ms = Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt));
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
