/**
 * Issue 25, one-off: every image of an open-set folder described once by the engine (our
 * MobileFaceNet, as a frame and as an enrolled photo) and its main face's chips cut for other
 * descriptor nets, cached outside the repository for bench/candidates-describe.ts and
 * bench/candidates-score.ts:
 * `nice -n 19 npx tsx bench/candidates-extract.ts <folder> <cacheDir> [--crops a112@0.9,a112@1,a112@1.1,a224@1.25]`.
 *
 * A crop `a<S>@<z>` is the ArcFace 112 chip's geometry (the engine's arcfaceChipTransform: eyes
 * and mouth where InsightFace puts them) drawn at S x S pixels and zoomed out by z (z > 1: more
 * around the face, as a looser box crop). Written: index.json (file, role, truth, usable, our
 * descriptors) and one raw uint8 NHWC file per crop (a zero chip for a probe without a face).
 */
import { mkdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../functions/config.js';
import { arcfaceChipTransform } from '../functions/core/faces/align.js';
import { createFaceEngine } from '../functions/core/faces/engine.js';
import { warpAffine } from '../functions/core/faces/warp.js';
import type { RgbImage } from '../functions/core/faces/image.js';
import type { Point } from '../functions/core/faces/types.js';
import { pickMainFace } from '../functions/core/gallery/enroll.js';
import { listPeopleFolder } from '../cli/lib/people-folder.js';
import { option } from './args.js';

export interface CandidateIndexEntry {
  file: string;
  role: 'gallery' | 'probe-known' | 'probe-strangers';
  truth: string;
  usable: boolean;
  /** Our MobileFaceNet: the frame descriptor and the enrolled-photo template (unit length). */
  frame: number[] | null;
  enrolled: number[] | null;
}

/** Parses `a224@1.25` into its side and zoom. */
export function parseCrop(crop: string): { size: number; zoom: number } {
  const m = /^a(\d+)@([\d.]+)$/.exec(crop);
  if (!m) throw new Error(`crop ${crop}: expected a<size>@<zoom>`);
  return { size: Number(m[1]), zoom: Number(m[2]) };
}

/** The ArcFace chip's geometry at `size` pixels, zoomed out by `zoom` about its centre. */
function arcfaceCrop(image: RgbImage, landmarks: Point[], size: number, zoom: number): RgbImage {
  const t = arcfaceChipTransform(landmarks);
  // Output pixel u (centre) -> 112-chip coordinate 56 + zoom ((u + 0.5) 112/size - 0.5 - 56), which
  // is arcfaceChip's 56 + zoom (u - 56) at size 112; then the chip's transform t.
  const k = (112 / size) * zoom;
  const c0 = 56 - 56.5 * zoom + 0.5 * k;
  const a = t.a * k;
  const b = t.b * k;
  const d = t.d * k;
  const e = t.e * k;
  const c = t.c + t.a * c0 + t.b * c0;
  const f = t.f + t.d * c0 + t.e * c0;
  return warpAffine(image, { a, b, c, d, e, f }, size, size);
}

async function main(): Promise<void> {
  const [folder, cacheDir] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const crops = option('--crops', 'a112@0.9,a112@1,a112@1.1').split(',');
  mkdirSync(cacheDir, { recursive: true });
  const engine = await createFaceEngine(loadConfig().engine);
  const listed: Array<{ file: string; role: CandidateIndexEntry['role']; truth: string }> = [];
  for (const role of ['gallery', 'probe-known', 'probe-strangers'] as const)
    for (const p of await listPeopleFolder(path.join(folder, role)))
      for (const file of p.files) listed.push({ file, role, truth: p.name });
  const fds = crops.map((c) => openSync(path.join(cacheDir, `${c}.u8`), 'w'));
  const index: CandidateIndexEntry[] = [];
  const started = performance.now();
  for (const [n, item] of listed.entries()) {
    let entry: CandidateIndexEntry = {
      ...item,
      file: path.relative(folder, item.file),
      usable: false,
      frame: null,
      enrolled: null,
    };
    const chips: Uint8Array[] = crops.map((c) => {
      const { size } = parseCrop(c);
      return new Uint8Array(size * size * 3);
    });
    try {
      const frame = await engine.detect(await engine.decode(readFileSync(item.file)));
      const [asFrame] = await engine.analyzeDetected([frame]);
      const [asEnrolled] = await engine.analyzeDetected([frame], { enrollment: true });
      const pick = pickMainFace(asFrame.faces, asFrame.width, asFrame.height).face;
      if (pick) {
        const i = asFrame.faces.indexOf(pick);
        // Landmarks back in the working image's coordinates (the engine reports the original's).
        const landmarks = pick.landmarks.map((p) => ({ x: p.x * frame.scale, y: p.y * frame.scale }));
        entry = {
          ...entry,
          usable: true,
          frame: Array.from(pick.descriptor),
          enrolled: Array.from(asEnrolled.faces[i].descriptor),
        };
        crops.forEach((c, j) => {
          const { size, zoom } = parseCrop(c);
          chips[j] = arcfaceCrop(frame.image, landmarks, size, zoom).data;
        });
      }
    } catch {
      // not an image: unusable, counted as an error by the scorer
    }
    chips.forEach((chip, j) => writeSync(fds[j], chip));
    index.push(entry);
    if (n % 200 === 0 || n === listed.length - 1)
      process.stderr.write(
        `  ${n + 1}/${listed.length} ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
      );
  }
  fds.forEach((fd) => closeSync(fd));
  writeFileSync(
    path.join(cacheDir, 'index.json'),
    JSON.stringify({ folder, crops, modelId: engine.modelId, index }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
