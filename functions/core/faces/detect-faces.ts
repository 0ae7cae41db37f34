/**
 * Face detection: the strategy over the detector's primitives (detection-passes.ts).
 *
 * Two passes over the whole frame, no tiles: a coarse one (the frame fitted into the 320x240
 * the net was trained at) finds faces from about 24 detector pixels up; a fine one, when the
 * smallest face to find needs it, sees the frame enlarged until that face is `reliableFaceSize`
 * detector pixels. Enlarging invents faces, so a fine-pass box big enough for the coarse pass to
 * judge is kept only where the coarse pass also responds; and the fine pass's large boxes are
 * unreliable (RFB-320's largest anchors take in the hair), so a face it sees larger than
 * `maxFineFaceSize` is taken from the coarse pass when that pass found it. Then: close-ups are
 * detected again in a crop around them (redetect.ts), and a frame left without a face is
 * searched at more scales (multi-scale-fallback.ts). The measurements behind each rule and each default
 * are in docs/benchmarks.md ("Face engine: detection").
 */
import type { RgbImage } from './image.js';
import { resizeRgb, wholeShrinkFactor } from './resize.js';
import { redetectLargeFaces } from './redetect.js';
import { detectAtMoreScales } from './multi-scale-fallback.js';
import type { Box } from './types.js';
import {
  decodePass,
  overlap,
  planPasses,
  sameFace,
  suppressOverlaps,
  type Detection,
  type DetectionPass,
  type DetectOptions,
  type DetectorNet,
} from './detection-passes.js';

/**
 * The fine pass's boxes that join the coarse pass's (see the header): confirmed by coarse
 * support when the coarse pass is big enough to judge them, and not left to the fine pass when
 * they are too large for it and the coarse pass found the face itself.
 * `coarseAll`: the coarse pass's boxes down to `min(confirmScore, minScore)`.
 */
export function fineDetectionsToKeep(
  fineFound: Detection[],
  coarseAll: Detection[],
  coarse: DetectionPass,
  fine: DetectionPass,
  options: DetectOptions,
): Detection[] {
  return fineFound.filter((d) => {
    const side = Math.max(d.box.width, d.box.height);
    const confirmed =
      side * coarse.scale < options.confirmFromSize ||
      coarseAll.some((c) => c.score >= options.confirmScore && overlap(c.box, d.box).iou > 0.5);
    if (!confirmed) return false;
    const tooLarge =
      side * fine.scale > options.maxFineFaceSize &&
      coarseAll.some((c) => c.score >= options.minScore && sameFace(c.box, d.box, options.iouThreshold));
    return !tooLarge;
  });
}

export async function detectFaces(
  net: DetectorNet,
  image: RgbImage,
  options: DetectOptions,
): Promise<Detection[]> {
  const { coarse, fine } = planPasses(image.width, image.height, options);
  const fineInput = fine ? resizeRgb(image, fine.width, fine.height) : undefined;
  // The coarse input from the fine one when that shrinks the frame by a whole factor
  // (640x360 -> 320x180): the same block average as from the frame, for a quarter of the
  // reads. Otherwise both resizes start at once (libvips runs them on its own threads).
  const coarseFromFine = fine && fine.scale < 1 && wholeShrinkFactor(fine, coarse.width, coarse.height);
  const coarseInput = coarseFromFine
    ? fineInput!.then((f) => resizeRgb(f, coarse.width, coarse.height))
    : resizeRgb(image, coarse.width, coarse.height);
  const coarseOut = await net(await coarseInput);
  const coarseAll = decodePass(
    coarseOut.scores,
    coarseOut.locations,
    coarse,
    fine ? Math.min(options.confirmScore, options.minScore) : options.minScore,
  );
  const coarseFound = coarseAll.filter((d) => d.score >= options.minScore);
  const found = [...coarseFound];
  const scaleResults = [{ scale: coarse.scale, found: coarseFound }];
  if (fine && fineInput) {
    const fineOut = await net(await fineInput);
    const fineFound = decodePass(fineOut.scores, fineOut.locations, fine, options.minScore);
    found.push(...fineDetectionsToKeep(fineFound, coarseAll, coarse, fine, options));
    scaleResults.push({ scale: fine.scale, found: fineFound });
  }
  const faces = suppressOverlaps(found, options.iouThreshold);
  if (faces.length > 0) {
    if (options.redetectFrom <= 0) return faces;
    const isLarge = (b: Box) =>
      Math.max(b.width, b.height) * coarse.scale >= options.redetectFrom * coarse.height;
    return redetectLargeFaces(net, image, faces, isLarge, options);
  }
  if (options.fallbackMinScales === 0) return faces;
  return detectAtMoreScales(net, image, options, scaleResults);
}
