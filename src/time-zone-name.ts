import fs from 'node:fs';

/**
 * Time zone names without building an Intl formatter where a list will do. The first
 * `Intl.DateTimeFormat` (or `toLocaleString`) a process makes loads ICU's locale data: about
 * 7 MiB of resident memory, which an idle host that validated TZ at start kept for nothing
 * (issue 17). `Intl.supportedValuesOf` reads only the zone list (under 0.5 MiB); a name not
 * in it (an alias such as US/Eastern or Etc/UTC) still gets Intl's own answer.
 */

/**
 * The zone as written, with its letter case fixed, if Intl (and so the scheduler and the
 * model's clock) knows it. Case matters: Intl accepts "europe/berlin", but a cell's libc
 * looks the name up as a file and would silently fall back to UTC. An alias stays as written
 * rather than become ICU's canonical name.
 */
export function knownTimeZone(tz: string): string | undefined {
  if (tz.trim() === '' || tz.length > 64) return undefined;
  const lower = tz.toLowerCase();
  // ECMA-402 requires UTC; Intl.supportedValuesOf lists only the IANA zones.
  if (lower === 'utc') return 'UTC';
  const listed = listedTimeZone(lower);
  if (listed !== undefined) return listed;
  try {
    const known = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    return known.toLowerCase() === lower ? known : tz;
  } catch {
    // Intl throws a RangeError for a name it does not know; that is the answer, not a failure.
    return undefined;
  }
}

const listedTimeZone = (lower: string): string | undefined =>
  Intl.supportedValuesOf('timeZone').find((z) => z.toLowerCase() === lower);

/** The names tzdata links to UTC, which ICU reports as UTC. */
const UTC_NAMES: ReadonlySet<string> = new Set([
  'utc',
  'uct',
  'universal',
  'zulu',
  'etc/utc',
  'etc/uct',
  'etc/universal',
  'etc/zulu',
]);

/**
 * The system's zone when TZ is unset: the name /etc/localtime links to (…/zoneinfo/NAME, on
 * Linux and macOS, where ICU looks too) when Intl lists it, else Intl's default.
 */
export function systemTimeZone(localtime = '/etc/localtime'): string {
  let link: string | undefined;
  try {
    link = fs.readlinkSync(localtime);
  } catch {
    link = undefined; // Not a link (a copied file, or none): Intl's answer below.
  }
  const at = link?.lastIndexOf('zoneinfo/') ?? -1;
  if (link !== undefined && at >= 0) {
    const lower = link.slice(at + 'zoneinfo/'.length).toLowerCase();
    if (UTC_NAMES.has(lower)) return 'UTC';
    const listed = listedTimeZone(lower);
    if (listed !== undefined) return listed;
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
