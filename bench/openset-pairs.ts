/**
 * `npm run bench:openset-pairs -- <openset folder> <out.csv> [--seed n] [--same n] [--different n]`:
 * writes the LFW-style pairs file that `npm run bench:accuracy -- <out.csv> --images <openset folder>`
 * scores. See bench/openset-pairs-make.ts for how rows are chosen.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import {
  DEFAULT_PAIRS_OPTIONS,
  describePairs,
  formatPairs,
  listOpenset,
  makeOpensetPairs,
} from './openset-pairs-make.js';

const count = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a count: ${value}`);
  return n;
};

const program = new Command('bench:openset-pairs')
  .argument('<folder>', 'openset folder: gallery/<name>/*, probe-known/<name>/*, probe-strangers/<name>/*')
  .argument('<out>', 'pairs file to write (file_x,file_y,Decision)')
  .option('--seed <n>', 'seed of the row choice', count, DEFAULT_PAIRS_OPTIONS.seed)
  .option('--same <n>', 'same-person rows', count, DEFAULT_PAIRS_OPTIONS.same)
  .option('--different <n>', 'different-person rows', count, DEFAULT_PAIRS_OPTIONS.different)
  .action(async (folder: string, out: string, opts: { seed: number; same: number; different: number }) => {
    const listing = await listOpenset(folder);
    const rows = makeOpensetPairs(listing, opts);
    const text = formatPairs(rows);
    await writeFile(out, text);
    const d = describePairs(rows, listing);
    console.log(
      `${out}: ${d.rows} rows (${d.same} same, ${d.different} different; seed ${opts.seed}) over ${d.images} images; ` +
        `sha256 ${createHash('sha256').update(text).digest('hex')}`,
    );
    for (const [kind, n] of Object.entries(d.byKind)) console.log(`  ${kind}: ${n}`);
  });

await program.parseAsync();
