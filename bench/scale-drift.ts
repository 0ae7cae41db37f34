/**
 * Scale drift: `npm run bench:scale-drift`. Each face of face-api's demo photos is cut out and
 * shown to the engine at 7 sizes (0.5x..3x); the drift is the distance of its descriptor from
 * the same face's at the original size. A robust engine keeps every drift well under the match
 * threshold: this is what exposed detector boxes that take in the hair.
 */
import { Command } from 'commander';
import sharp from 'sharp';
import { loadConfig } from '../functions/config.js';
import { createFaceEngine } from '../functions/core/faces/engine.js';
import { descriptorDistance } from '../functions/core/faces/describe.js';
import { DESCRIPTORS } from '../functions/core/faces/descriptors/registry.js';
import { demoPeople, faceCrop } from '../cli/lib/demo-data.js';

const SCALES = [0.5, 0.75, 1.1, 1.27, 1.5, 2, 3];

const program = new Command('bench:scale-drift')
  .option('--json', 'print one JSON object as the last line')
  .action(async (opts: { json?: boolean }) => {
    const engine = await createFaceEngine(loadConfig().engine);
    const people = await demoPeople(engine);
    const drifts: number[] = [];
    const large: string[] = [];
    for (const p of people) {
      const base = await faceCrop(p, 1.6);
      const ref = (await engine.analyzeFaces(base)).faces[0];
      const { width = 0 } = await sharp(base).metadata();
      for (const scale of SCALES) {
        const img = await sharp(base)
          .resize(Math.round(width * scale))
          .jpeg({ quality: 90 })
          .toBuffer();
        const face = (await engine.analyzeFaces(img)).faces.sort((a, b) => b.box.width - a.box.width)[0];
        const drift =
          face && ref
            ? descriptorDistance(
                DESCRIPTORS[engine.config.descriptor].metric,
                ref.descriptor,
                face.descriptor,
              )
            : Infinity;
        drifts.push(drift);
        if (drift > 0.25) large.push(`${p.name} at ${scale}x: ${drift.toFixed(2)}`);
      }
    }
    const sorted = [...drifts].sort((a, b) => a - b);
    const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))];
    const summary = {
      faces: people.length,
      scales: SCALES,
      n: sorted.length,
      median: q(0.5),
      p95: q(0.95),
      max: sorted[sorted.length - 1],
      over025: large,
    };
    console.log(
      `${people.length} faces x ${SCALES.length} scales: drift median ${summary.median.toFixed(3)}, p95 ${summary.p95.toFixed(3)}, max ${summary.max.toFixed(3)}`,
    );
    for (const l of large) console.log(`  drift > 0.25: ${l}`);
    if (opts.json) console.log(JSON.stringify(summary));
  });

await program.parseAsync();
