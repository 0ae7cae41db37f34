/**
 * Score-level fusion of two descriptors, measured on a folded pairs file (issue 22, point 3):
 * `npx tsx bench/fuse-distances.ts <a.txt> <b.txt> [--scale-a 0.65] [--scale-b 0.6] [--square-b]`.
 *
 * Each input is what `npm run bench:accuracy -- pairs.csv --images dir --distances` printed for
 * one descriptor on the same rows (`file_x,file_y,Decision,fold,distance`). The fused distance is
 * `w * a / scaleA + (1 - w) * b / scaleB` (each distance in units of its descriptor's 1:1
 * threshold); with `--square-b`, b enters squared, `(b / scaleB)^2`, which is what a concatenated
 * descriptor [cosine-normalised a, Euclidean b] compares by. The weight is chosen, like the
 * threshold, on the other nine folds (0, 0.05, ..., 1), so the 10-fold figure stays held out.
 */
import { readFileSync } from 'node:fs';
import { option, flag } from './args.js';
import { bestThreshold, foldedAccuracy, rocAuc, type FoldedDistance } from './metrics.js';

interface Row {
  key: string;
  same: boolean;
  fold: string;
  distance: number | null;
}

function readDistances(file: string): Row[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.indexOf('file_x,file_y,Decision,fold,distance');
  if (start < 0) throw new Error(`${file}: no distance listing (run bench:accuracy with --distances)`);
  const rows: Row[] = [];
  for (const line of lines.slice(start + 1)) {
    const parts = line.split(',');
    if (parts.length !== 5 || !/^(Yes|No)$/.test(parts[2])) break;
    rows.push({
      key: `${parts[0]},${parts[1]}`,
      same: parts[2] === 'Yes',
      fold: parts[3],
      distance: parts[4] === '' ? null : Number(parts[4]),
    });
  }
  return rows;
}

const [fileA, fileB] = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^[\d.]+$/.test(a));
const scaleA = Number(option('--scale-a', '0.65'));
const scaleB = Number(option('--scale-b', '0.6'));
const squareB = flag('--square-b');
const a = readDistances(fileA);
const b = readDistances(fileB);
if (a.length !== b.length || a.some((r, i) => r.key !== b[i].key))
  throw new Error('the two files do not list the same rows in the same order');

const weights = Array.from({ length: 21 }, (_, i) => i / 20);
const fused = (w: number): FoldedDistance[] =>
  a.map((r, i) => {
    const db = b[i].distance;
    const distance =
      r.distance === null || db === null
        ? null
        : (w * r.distance) / scaleA + (1 - w) * (squareB ? (db / scaleB) ** 2 : db / scaleB);
    return { distance, same: r.same, fold: r.fold };
  });
const usable = (rows: FoldedDistance[]) =>
  rows.filter((r) => r.distance !== null) as { distance: number; same: boolean; fold: string }[];

// 10-fold: per fold, the weight and then the threshold best on the other nine folds.
const folds = [...new Set(a.map((r) => r.fold))];
const perFold = folds.map((fold) => {
  let best = { w: 0, accuracy: -1 };
  for (const w of weights) {
    const train = usable(fused(w)).filter((r) => r.fold !== fold);
    const { accuracy } = bestThreshold(train);
    if (accuracy > best.accuracy) best = { w, accuracy };
  }
  const rows = fused(best.w);
  const { threshold } = bestThreshold(usable(rows).filter((r) => r.fold !== fold));
  const test = rows.filter((r) => r.fold === fold);
  const right = test.filter((r) => r.distance !== null && r.distance <= threshold === r.same).length;
  return { fold, w: best.w, accuracy: right / test.length };
});
const accs = perFold.map((f) => f.accuracy);
const mean = accs.reduce((x, y) => x + y, 0) / accs.length;
const sd = Math.sqrt(accs.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, accs.length - 1));
console.log(
  `fusion w * a/${scaleA} + (1-w) * ${squareB ? `(b/${scaleB})^2` : `b/${scaleB}`}: 10-fold ${(mean * 100).toFixed(2)}% +/- ${(sd * 100).toFixed(2)}% ` +
    `(weights chosen per fold: ${perFold.map((f) => f.w.toFixed(2)).join(' ')})`,
);
for (const w of [0, 0.25, 0.5, 0.75, 1]) {
  const rows = fused(w);
  const t = foldedAccuracy(rows);
  console.log(
    `  fixed w=${w.toFixed(2)}: 10-fold ${(t.mean * 100).toFixed(2)}% +/- ${(t.sd * 100).toFixed(2)}%, AUC ${rocAuc(usable(rows)).toFixed(5)}`,
  );
}
