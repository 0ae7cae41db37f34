/**
 * Latency figures of a workload: min / median / p95 / max over per-video latencies. Pure.
 *
 * - median: the middle value (the mean of the two middle values for an even count);
 * - p95 (any percentile): nearest rank, the smallest value that at least 95% of the values do
 *   not exceed (for 100 values, the 95th smallest); always one of the values, never interpolated.
 */

export interface LatencyStats {
  count: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of values sorted ascending (`p` in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is outside 0..100`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function median(sorted: readonly number[]): number {
  if (sorted.length === 0) throw new Error('median of no values');
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Stats over the finite values (undefined when there are none). */
export function latencyStats(values: readonly number[]): LatencyStats | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  return {
    count: sorted.length,
    min: sorted[0],
    median: median(sorted),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}
