/**
 * `npm run bench:dev-pairs -- <openset folder> <out.csv> [--seed n]`: the development pair set of
 * issue 22, laid out as LFW's view 2 (ten folds, no person in two folds), for
 * `npm run bench:accuracy -- <out.csv> --images <openset folder>`, which then prints the 10-fold
 * protocol figure (each fold judged at the threshold chosen on the other nine).
 *
 * People (enrolled and strangers alike, names in byte order) are dealt to the ten folds in turn
 * after a seeded shuffle. Each fold holds EVERY same-person pair of its enrolled people (each has
 * 6 photos: 15 pairs) and as many different-person pairs, each between two people of the fold,
 * one photo each, drawn with the seed, no row twice. Images are chosen by name only (hard photos
 * stay in). Rows: `file_x,file_y,Decision,fold` (fold 1..10).
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { listOpenset, seededRandom, type OpensetListing } from './openset-pairs-make.js';

export interface FoldedPair {
  x: string;
  y: string;
  same: boolean;
  fold: number;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function makeDevPairs(listing: OpensetListing, seed = 22, folds = 10): FoldedPair[] {
  const random = seededRandom(seed);
  const shuffle = <T>(items: T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  const deal = (names: string[]) => {
    const byFold: string[][] = Array.from({ length: folds }, () => []);
    shuffle([...names].sort(byteOrder)).forEach((name, i) => byFold[i % folds].push(name));
    return byFold;
  };
  const known = deal([...listing.known.keys()]);
  const strangers = deal([...listing.strangers.keys()]);
  const filesOf = (name: string) => listing.known.get(name) ?? listing.strangers.get(name)!;
  const rows: FoldedPair[] = [];
  for (let f = 0; f < folds; f++) {
    let same = 0;
    for (const name of known[f]) {
      const files = filesOf(name);
      for (let i = 0; i < files.length; i++)
        for (let j = i + 1; j < files.length; j++) {
          rows.push({ x: files[i], y: files[j], same: true, fold: f + 1 });
          same++;
        }
    }
    const people = [...known[f], ...strangers[f]].sort(byteOrder);
    const seen = new Set<string>();
    const pick = (files: string[]) => files[Math.floor(random() * files.length)];
    for (let different = 0, attempts = 0; different < same;) {
      if (++attempts > 100 * (same + 1)) throw new Error(`fold ${f + 1}: too few different-person pairs`);
      const a = Math.floor(random() * people.length);
      const b = Math.floor(random() * people.length);
      if (a === b) continue;
      const [x, y] = [pick(filesOf(people[a])), pick(filesOf(people[b]))];
      const key = [x, y].sort(byteOrder).join('\n');
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({ x, y, same: false, fold: f + 1 });
      different++;
    }
  }
  return rows;
}

export function formatFoldedPairs(rows: FoldedPair[]): string {
  const lines = rows.map((r) => `${r.x},${r.y},${r.same ? 'Yes' : 'No'},${r.fold}`);
  return ['file_x,file_y,Decision,fold', ...lines].join('\n') + '\n';
}

const program = new Command('bench:dev-pairs')
  .argument('<folder>', 'openset folder: gallery/<name>/*, probe-known/<name>/*, probe-strangers/<name>/*')
  .argument('<out>', 'pairs file to write (file_x,file_y,Decision,fold)')
  .option('--seed <n>', 'seed of the folds and of the different-person rows', (v) => parseInt(v, 10), 22)
  .action(async (folder: string, out: string, opts: { seed: number }) => {
    const rows = makeDevPairs(await listOpenset(folder), opts.seed);
    const text = formatFoldedPairs(rows);
    await writeFile(out, text);
    const same = rows.filter((r) => r.same).length;
    console.log(
      `${out}: ${rows.length} rows (${same} same, ${rows.length - same} different; 10 folds, no person in two; seed ${opts.seed}); ` +
        `sha256 ${createHash('sha256').update(text).digest('hex')}`,
    );
  });

await program.parseAsync();
