/**
 * Summaries for the network benchmark: percentiles of latency samples (nearest-rank, the
 * definition most latency reports use) and rates over a window of arrival times.
 *
 *   summarize([1.2, 0.9, 3.4]);   // { n: 3, p50: 1.2, p99: 3.4, mean: 1.83, min: 0.9, max: 3.4 }
 */

export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** Rounds to `digits` decimals, for readable JSON. */
export const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of sorted values: the smallest value with at least p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export function summarize(samples: readonly number[], digits = 3): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50), digits),
    p90: round(percentile(sorted, 90), digits),
    p99: round(percentile(sorted, 99), digits),
    mean: round(sum / Math.max(1, sorted.length), digits),
    min: round(sorted[0] ?? NaN, digits),
    max: round(sorted[sorted.length - 1] ?? NaN, digits),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nanosecond monotonic timestamps (as numbers) to milliseconds between them. */
export const msBetween = (fromNs: number, toNs: number): number => (toNs - fromNs) / 1e6;

/**
 * Items per second between the arrivals at fractions `from` and `to` of the run (e.g. 0.1 and
 * 0.9): the sustained rate, without the ramp-up of the first batches and the tail of the last.
 */
export function steadyRate(arrivalsNs: readonly number[], from = 0.1, to = 0.9): number {
  const sorted = [...arrivalsNs].sort((a, b) => a - b);
  const i = Math.floor(from * (sorted.length - 1));
  const j = Math.ceil(to * (sorted.length - 1));
  const span = ((sorted[j] as number) - (sorted[i] as number)) / 1e9;
  return span > 0 ? (j - i) / span : NaN;
}
