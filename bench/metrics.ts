/** Verification metrics over distances of same-person and different-person pairs. Pure. */

export interface PairDistance {
  distance: number;
  same: boolean;
}

/** Fraction of pairs decided right when "same" means distance <= threshold. */
export function accuracyAt(pairs: PairDistance[], threshold: number): number {
  const right = pairs.filter((p) => p.distance <= threshold === p.same).length;
  return pairs.length ? right / pairs.length : NaN;
}

/** The threshold with the best accuracy (midpoint between neighbouring distances). */
export function bestThreshold(pairs: PairDistance[]): { threshold: number; accuracy: number } {
  const ds = [...new Set(pairs.map((p) => p.distance))].sort((a, b) => a - b);
  const candidates = [ds[0] - 1e-6, ...ds.slice(1).map((d, i) => (d + ds[i]) / 2), ds[ds.length - 1] + 1e-6];
  let best = { threshold: NaN, accuracy: -1 };
  for (const t of candidates) {
    const accuracy = accuracyAt(pairs, t);
    if (accuracy > best.accuracy) best = { threshold: t, accuracy };
  }
  return best;
}

/** Area under the ROC curve: the probability that a same-person pair is closer than a
 * different-person pair (ties count half). */
export function rocAuc(pairs: PairDistance[]): number {
  const same = pairs.filter((p) => p.same).map((p) => p.distance);
  const diff = pairs
    .filter((p) => !p.same)
    .map((p) => p.distance)
    .sort((a, b) => a - b);
  if (!same.length || !diff.length) return NaN;
  let wins = 0;
  for (const d of same) {
    // count of diff distances greater than d, and equal to d
    let lo = 0;
    let hi = diff.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (diff[mid] <= d) lo = mid + 1;
      else hi = mid;
    }
    let eq = 0;
    for (let i = lo - 1; i >= 0 && diff[i] === d; i--) eq++;
    wins += diff.length - lo + eq / 2;
  }
  return wins / (same.length * diff.length);
}
