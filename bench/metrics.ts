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

export interface LabelledPair extends PairDistance {
  /** The two people of the pair. */
  people: [string, string];
}

/**
 * Leave-one-person-out calibration: for each person, the threshold is chosen on the pairs not
 * involving them and judged on the pairs that do. An honest estimate of what calibrating the
 * threshold buys on unseen people, where calibrating and judging on the same pairs is not.
 */
export function crossValidatedThreshold(pairs: LabelledPair[], fixed: number) {
  const people = [...new Set(pairs.flatMap((p) => p.people))];
  let calibratedRight = 0;
  let fixedRight = 0;
  let decisions = 0;
  const thresholds: number[] = [];
  for (const person of people) {
    const train = pairs.filter((p) => !p.people.includes(person));
    const test = pairs.filter((p) => p.people.includes(person));
    const { threshold } = bestThreshold(train);
    thresholds.push(threshold);
    for (const p of test) {
      decisions++;
      if (p.distance <= threshold === p.same) calibratedRight++;
      if (p.distance <= fixed === p.same) fixedRight++;
    }
  }
  const sorted = [...thresholds].sort((a, b) => a - b);
  return {
    folds: people.length,
    calibratedAccuracy: calibratedRight / decisions,
    fixedAccuracy: fixedRight / decisions,
    thresholdRange: [sorted[0], sorted[sorted.length - 1]] as [number, number],
    medianThreshold: sorted[Math.floor(sorted.length / 2)],
  };
}

/** A scored row of a pairs file with folds; `distance` null when a face was missing (an error). */
export interface FoldedDistance {
  distance: number | null;
  same: boolean;
  fold: string;
}

/**
 * LFW's 10-fold protocol (view 2): each fold is judged at the threshold that is best on the other
 * folds together, and the figure is the mean of the folds' accuracies with their standard
 * deviation. A row without a distance counts as wrong in its fold (never dropped).
 */
export function foldedAccuracy(rows: FoldedDistance[]) {
  const folds = [...new Set(rows.map((r) => r.fold))].sort(
    (a, b) => Number(a) - Number(b) || (a < b ? -1 : 1),
  );
  const perFold = folds.map((fold) => {
    const train = rows.filter((r) => r.fold !== fold && r.distance !== null) as PairDistance[];
    const test = rows.filter((r) => r.fold === fold);
    const { threshold } = bestThreshold(train);
    const right = test.filter((r) => r.distance !== null && r.distance <= threshold === r.same).length;
    return { fold, threshold, accuracy: right / test.length, rows: test.length };
  });
  const accs = perFold.map((f) => f.accuracy);
  const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  const sd = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, accs.length - 1));
  return { folds: perFold, mean, sd };
}
