/**
 * Small-face recall: `npm run bench:small-faces [-- --sizes 32,40,48,64]`.
 *
 * Group photos (face-api's demo photos, plus bbt1..5 from ../shared/data/faces when present)
 * are shrunk until their median face is N px, pasted into a 1920x1080 frame on a face-free
 * textured background, and run through detection. Truth: the faces the same detector finds in
 * the photo at full size (checked by eye on annotated images). Reports found / total and any
 * detection that matches no face.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { loadConfig } from '../functions/config.js';
import { createFaceEngine } from '../functions/core/faces/engine.js';
import { overlap } from '../functions/core/faces/detection-passes.js';
import type { Box } from '../functions/core/faces/types.js';
import { background, DEMO_PHOTOS, hasSharedFaces, SHARED_FACES } from './face-frames.js';

const program = new Command('bench:small-faces')
  .option('--sizes <list>', 'median face sizes to test, px', '32,40,48,64')
  .option('--json', 'print one JSON object as the last line')
  .action(async (opts: { sizes: string; json?: boolean }) => {
    const engine = await createFaceEngine(loadConfig().engine);
    const photos = [
      ...(hasSharedFaces() ? [1, 2, 3, 4, 5].map((i) => path.join(SHARED_FACES, `bbt${i}.jpg`)) : []),
      ...DEMO_PHOTOS,
    ];
    const truth = new Map<string, Box[]>();
    for (const f of photos)
      truth.set(
        f,
        (await engine.analyzeFaces(await readFile(f))).faces.map((x) => x.box),
      );
    const total = [...truth.values()].reduce((n, t) => n + t.length, 0);
    console.log(`${photos.length} photos, ${total} faces at full size`);
    const results = [];
    for (const size of opts.sizes.split(',').map(Number)) {
      let found = 0;
      let invented = 0;
      for (const [i, f] of photos.entries()) {
        const faces = truth.get(f)!;
        const sides = faces.map((b) => Math.max(b.width, b.height)).sort((a, b) => a - b);
        const s = size / sides[Math.floor(sides.length / 2)];
        const meta = await sharp(f).metadata();
        const w = Math.round(meta.width! * s);
        const h = Math.round(meta.height! * s);
        const left = Math.round((1920 - w) / 2);
        const top = Math.round((1080 - h) / 2);
        const frame = await sharp(await background(1920, 1080, i + 1))
          .composite([{ input: await sharp(f).resize(w, h).toBuffer(), left, top }])
          .jpeg({ quality: 92 })
          .toBuffer();
        const detected = (await engine.analyzeFaces(frame)).faces.map((x) => x.box);
        const expected = faces.map((b) => ({
          x: b.x * s + left,
          y: b.y * s + top,
          width: b.width * s,
          height: b.height * s,
        }));
        found += expected.filter((b) => detected.some((d) => overlap(d, b).iou > 0.3)).length;
        invented += detected.filter((d) => !expected.some((b) => overlap(d, b).iou > 0.1)).length;
      }
      console.log(
        `median face ${size} px in a 1920x1080 frame: found ${found}/${total}, false positives ${invented}`,
      );
      results.push({ size, found, total, falsePositives: invented });
    }
    if (opts.json) console.log(JSON.stringify({ photos: photos.length, results }));
  });

await program.parseAsync();
