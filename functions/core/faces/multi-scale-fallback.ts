/**
 * The fallback for frames where detection's two passes found no face: the detector at more
 * input scales, a face kept only where several scales agree.
 *
 * Why: RFB-320's score for one face swings with the input scale (a face missed at both usual
 * scales can score 0.9 at others). Why several scales must agree: enlarged inputs invent faces
 * (an arm, a torso), but almost never at more than one scale. Figures: docs/benchmarks.md,
 * "Face engine: detection" (frames where both passes find nothing).
 *
 * Scales: steps of sqrt(2) up from the coarse scale (a face is then never more than 2^(1/4)
 * from a scale's own size, as far apart as scale steps can be while a face still reads alike in
 * neighbours), up to the fine pass's limits, skipping steps within 2^(1/4) of the fine scale
 * (they would repeat it, and an invention there would count twice). Smallest (cheapest)
 * first, and no further than a face could still reach the count: on a frame with nothing at
 * all, one extra scale.
 */
import type { Detection, DetectionPass, DetectOptions, DetectorNet } from './detection-passes.js';
import { decodePass, overlap, planPasses, suppressOverlaps } from './detection-passes.js';
import type { RgbImage } from './image.js';
import { resizeRgb } from './resize.js';

/** Boxes (scored >= minScore) that one scale found. */
export interface ScaleResult {
  scale: number;
  found: Detection[];
}

const STEP = Math.SQRT2;
const DISTINCT = Math.sqrt(STEP);

/** The extra scales to try on a `width` x `height` image, smallest first. */
export function fallbackScales(width: number, height: number, options: DetectOptions): number[] {
  const { coarse, fine } = planPasses(width, height, options);
  const top = Math.min(options.maxUpscale, Math.sqrt(options.maxFinePixels / (width * height)));
  const scales: number[] = [];
  for (let s = coarse.scale * STEP; s <= top * 1.0001; s *= STEP) {
    if (fine && Math.max(s / fine.scale, fine.scale / s) < DISTINCT) continue;
    scales.push(s);
  }
  return scales;
}

/** How many scales found `d`'s face (IoU > 0.5), each counted once. */
function scalesFinding(d: Detection, results: ScaleResult[]): number {
  return results.filter((r) => r.found.some((e) => overlap(e.box, d.box).iou > 0.5)).length;
}

/**
 * The boxes of all scales that at least `minScales` scales (each counted once) found as the
 * same face (IoU > 0.5), merged by NMS.
 */
export function agreedAcrossScales(
  results: ScaleResult[],
  minScales: number,
  iouThreshold: number,
): Detection[] {
  const agreed = results.flatMap((r) => r.found.filter((d) => scalesFinding(d, results) >= minScales));
  return suppressOverlaps(agreed, iouThreshold);
}

/** Whether `remaining` more scales could still bring some face to `minScales`: when not, the
 * search stops (on a frame with nothing at all, after the first and cheapest extra scale). */
function couldStillAgree(results: ScaleResult[], remaining: number, minScales: number): boolean {
  if (remaining >= minScales) return true;
  return results.some((r) => r.found.some((d) => scalesFinding(d, results) + remaining >= minScales));
}

/** The fallback: the faces that enough scales agree on. `done`: what the coarse and fine passes
 * found (scored >= minScore), for the count. */
export async function detectAtMoreScales(
  net: DetectorNet,
  image: RgbImage,
  options: DetectOptions,
  done: ScaleResult[],
): Promise<Detection[]> {
  const results = [...done];
  const scales = fallbackScales(image.width, image.height, options);
  for (const [i, scale] of scales.entries()) {
    if (!couldStillAgree(results, scales.length - i, options.fallbackMinScales)) break;
    const pass: DetectionPass = {
      scale,
      width: Math.max(1, Math.round(image.width * scale)),
      height: Math.max(1, Math.round(image.height * scale)),
    };
    const out = await net(await resizeRgb(image, pass.width, pass.height));
    results.push({ scale, found: decodePass(out.scores, out.locations, pass, options.minScore) });
  }
  return agreedAcrossScales(results, options.fallbackMinScales, options.iouThreshold);
}
