/**
 * Summaries of repeated measurements. Percentiles use the nearest-rank method: with few
 * samples (quick mode) p95 is the largest one, never an interpolated value no run produced.
 */

/** @param {number[]} samples @param {number} p in (0, 100] */
export function percentile(samples, p) {
  if (samples.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return /** @type {number} */ (sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]);
}

/** The middle sample, or the mean of the two middle ones. */
export function median(samples) {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? /** @type {number} */ (sorted[mid])
    : /** @type {number} */ (sorted[mid - 1] + /** @type {number} */ (sorted[mid])) / 2;
}

/**
 * @param {number[]} samples
 * @returns {{ median: number, p95: number, min: number, max: number, n: number }}
 */
export function summarize(samples) {
  return {
    median: median(samples),
    p95: percentile(samples, 95),
    min: samples.length ? Math.min(...samples) : Number.NaN,
    max: samples.length ? Math.max(...samples) : Number.NaN,
    n: samples.length,
  };
}

/** value / baseline of the medians; null when either is missing or the baseline is 0. */
export function ratio(value, baseline) {
  if (!value || !baseline) return null;
  if (!Number.isFinite(value.median) || !Number.isFinite(baseline.median)) return null;
  if (baseline.median === 0) return null;
  return value.median / baseline.median;
}

/** A number for a table: 3 significant digits, no exponent for the ranges seen here. */
export function formatNumber(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const abs = Math.abs(x);
  if (abs >= 100) return Math.round(x).toLocaleString('en-US');
  if (abs >= 10) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  return x.toFixed(3);
}
