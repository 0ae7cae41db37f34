/**
 * Face detection with Ultra-Light-Fast-Generic-Face-Detector RFB-320, freed from its 320x240
 * input (models/convert/detector.ts): the net returns raw scores and box regressions for any
 * input size, and the prior boxes are generated and decoded here.
 *
 * Two passes over the whole frame, no tiles:
 * - coarse: the frame fitted into 320x240 (the size the net was trained at) finds every face
 *   from about 24 detector pixels up, including close-ups.
 * - fine, when needed: the frame scaled so that the smallest face to find (`minFaceSize`) is
 *   `reliableFaceSize` detector pixels. Measured on group photos shrunk until their faces had a
 *   given size: recall 87% at 16 px, 98% at 20 px, 100% at 24 px (docs/benchmarks.md).
 *   Enlarging invents faces (on real photos: a collar, a railing, skin): so a fine-pass box
 *   big enough for the coarse pass to judge (`confirmFromSize`) is kept only where the coarse
 *   pass also responds, if weakly. Measured: real faces score >= 0.95 there, the invented ones
 *   <= 0.09. Only faces too small for the coarse pass rest on the fine pass alone.
 *   The fine pass is for small faces: a face it sees larger than `maxFineFaceSize` (the input
 *   is enlarged 1.3-4x, so such a face is >= 32 px in the coarse pass, well inside its reliable
 *   range) is taken from the coarse pass when that pass found it. RFB-320's largest anchors are
 *   192 and 256 px, trained on a 240 px high input: on the pipeline benchmark's 1080p frames its
 *   boxes for faces of 210-240 fine px took in the hair (18-25% taller than the coarse pass's
 *   box for the same face), the landmarks came out squashed and two of 100 names were wrong.
 *   Pipeline benchmark by limit (with close-ups re-detected): 128, 160 and 192 px 100/100, 224
 *   px 99/100. Among those, `bench:scale-drift` (descriptor drift of one face shown at 7 sizes)
 *   is lowest at 128 px: median / p95 / max 0.051 / 0.103 / 0.154, against 0.058 / 0.123 /
 *   0.194 at 160 and 0.055 / 0.123 / 0.154 at 192.
 * A score floor applies everywhere, and boxes from both passes are merged by NMS.
 *
 * A face that takes up half the coarse input's height or more (a close-up) is detected again in
 * a crop around it (redetect.ts), where it fills only half of the net's input.
 *
 * When both passes leave a frame without a face, a fallback searches harder (search-harder.ts):
 * the detector's score for one face swings with the input scale (a face 144 px high in a 480p
 * frame: 0.33 at the coarse scale, 0.33 at the fine one, 0.90-1.00 from 1.2x the coarse scale
 * up), so more scales are tried; it costs nothing on frames where a face was found.
 */
import type { RgbImage } from './image.js';
import { resizeRgb, wholeShrinkFactor } from './resize.js';
import { redetectLargeFaces } from './redetect.js';
import { searchHarder } from './search-harder.js';
import type { Box } from './types.js';

/** The input size RFB-320 was trained at. */
export const DETECTOR_WIDTH = 320;
export const DETECTOR_HEIGHT = 240;

export interface Detection {
  box: Box;
  score: number;
}

export interface DetectOptions {
  /** Drop boxes scored below this. */
  minScore: number;
  /** Smallest face (box side, in pixels of the image) that must be found. */
  minFaceSize: number;
  /** Face size in detector pixels from which the detector is reliable. */
  reliableFaceSize: number;
  /** Never enlarge the image by more than this. */
  maxUpscale: number;
  /** Cap on the fine pass's input (pixels): on very large images the smallest findable face
   * grows instead of the cost. */
  maxFinePixels: number;
  /** IoU above which two boxes are the same face. */
  iouThreshold: number;
  /** Coarse-pass size (detector pixels) from which a fine-pass box needs coarse support. */
  confirmFromSize: number;
  /** Coarse-pass score that counts as support. */
  confirmScore: number;
  /** Fine-pass box side (detector pixels) above which a face the coarse pass also found is
   * taken from the coarse pass. */
  maxFineFaceSize: number;
  /** On a frame left without a face, how many scales (coarse and fine passes included) must
   * find a face for the fallback to keep it; 0 turns the fallback off (search-harder.ts). */
  fallbackMinScales: number;
  /** Faces whose box side is at least this fraction of the coarse pass's input height are
   * detected again in a crop around them (redetect.ts); 0 turns it off. */
  redetectFrom: number;
  /** The crop's side, in face box sides. */
  redetectContext: number;
}

export const DEFAULT_DETECT_OPTIONS: DetectOptions = {
  minScore: 0.7,
  minFaceSize: 40,
  reliableFaceSize: 20,
  maxUpscale: 2,
  maxFinePixels: 1_000_000,
  iouThreshold: 0.4,
  confirmFromSize: 12,
  confirmScore: 0.2,
  maxFineFaceSize: 128,
  fallbackMinScales: 3,
  redetectFrom: 0.5,
  redetectContext: 2,
};

/** Runs the detector on one RGB image of any size; returns per-anchor background/face scores
 * ([anchors, 2]) and raw regressions ([anchors, 4]: centre x, y, log-size w, h). */
export type DetectorNet = (input: RgbImage) => Promise<{ scores: Float32Array; locations: Float32Array }>;

export interface DetectionPass {
  /** Detector pixels per image pixel. */
  scale: number;
  width: number;
  height: number;
}

/** Decide the passes for an image: always a coarse one, a fine one when small faces need it. */
export function planPasses(
  width: number,
  height: number,
  options: DetectOptions,
): { coarse: DetectionPass; fine?: DetectionPass } {
  const pass = (scale: number): DetectionPass => ({
    scale,
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  });
  const coarseScale = Math.min(DETECTOR_WIDTH / width, DETECTOR_HEIGHT / height, options.maxUpscale);
  const coarse = pass(coarseScale);
  if (options.minFaceSize * coarseScale >= options.reliableFaceSize) return { coarse };
  const fineScale = Math.min(
    options.maxUpscale,
    options.reliableFaceSize / options.minFaceSize,
    Math.sqrt(options.maxFinePixels / (width * height)),
  );
  if (fineScale <= coarseScale) return { coarse };
  return { coarse, fine: pass(fineScale) };
}

/** RFB-320's anchors, as its exported decoder lays them out: per level, row-major cells, each
 * with that level's box sizes; centres at (i + 0.5) / cells; everything clamped to 0..1. */
const MIN_BOXES = [
  [10, 16, 24],
  [32, 48],
  [64, 96],
  [128, 192, 256],
];
const STRIDES = [8, 16, 32, 64];
const CENTRE_VARIANCE = 0.1;
const SIZE_VARIANCE = 0.2;
const priorCache = new Map<string, Float32Array>();

export function priorBoxes(width: number, height: number): Float32Array {
  const key = `${width}x${height}`;
  let priors = priorCache.get(key);
  if (!priors) {
    const values: number[] = [];
    STRIDES.forEach((stride, level) => {
      const cols = Math.ceil(width / stride);
      const rows = Math.ceil(height / stride);
      for (let j = 0; j < rows; j++) {
        for (let i = 0; i < cols; i++) {
          // Clamped to 0..1 like the exported priors (a 256 px box exceeds a 240 px input).
          for (const size of MIN_BOXES[level]) {
            values.push(
              (i + 0.5) / cols,
              (j + 0.5) / rows,
              Math.min(1, size / width),
              Math.min(1, size / height),
            );
          }
        }
      }
    });
    priors = Float32Array.from(values);
    if (priorCache.size > 32) priorCache.clear();
    priorCache.set(key, priors);
  }
  return priors;
}

/** Raw outputs of one pass -> boxes in image coordinates, scored at least `minScore`. */
export function decodePass(
  scores: Float32Array,
  locations: Float32Array,
  pass: DetectionPass,
  minScore: number,
): Detection[] {
  const priors = priorBoxes(pass.width, pass.height);
  if (priors.length !== locations.length) {
    throw new Error(
      `detector returned ${locations.length / 4} anchors, expected ${priors.length / 4} for ${pass.width}x${pass.height}`,
    );
  }
  const imageW = pass.width / pass.scale;
  const imageH = pass.height / pass.scale;
  const found: Detection[] = [];
  for (let i = 0; i < priors.length / 4; i++) {
    const score = scores[i * 2 + 1];
    if (score < minScore) continue;
    const [pcx, pcy, pw, ph] = [priors[i * 4], priors[i * 4 + 1], priors[i * 4 + 2], priors[i * 4 + 3]];
    const cx = pcx + locations[i * 4] * CENTRE_VARIANCE * pw;
    const cy = pcy + locations[i * 4 + 1] * CENTRE_VARIANCE * ph;
    const w = pw * Math.exp(locations[i * 4 + 2] * SIZE_VARIANCE);
    const h = ph * Math.exp(locations[i * 4 + 3] * SIZE_VARIANCE);
    const left = Math.max(0, cx - w / 2) * imageW;
    const top = Math.max(0, cy - h / 2) * imageH;
    const right = Math.min(1, cx + w / 2) * imageW;
    const bottom = Math.min(1, cy + h / 2) * imageH;
    if (right <= left || bottom <= top) continue;
    found.push({ score, box: { x: left, y: top, width: right - left, height: bottom - top } });
  }
  return found;
}

export function overlap(a: Box, b: Box): { iou: number; ofSmaller: number } {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return { iou: 0, ofSmaller: 0 };
  const inter = w * h;
  const areaA = a.width * a.height;
  const areaB = b.width * b.height;
  return { iou: inter / (areaA + areaB - inter), ofSmaller: inter / Math.min(areaA, areaB) };
}

/** Two boxes are one face: the NMS criterion of `suppressOverlaps`. */
export function sameFace(a: Box, b: Box, iouThreshold: number): boolean {
  const o = overlap(a, b);
  return o.iou > iouThreshold || o.ofSmaller > 0.7;
}

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

/**
 * Greedy non-maximum suppression. Besides IoU, a box lying mostly inside a better one is
 * dropped: passes at different scales otherwise report a face and a part of it.
 */
export function suppressOverlaps(detections: Detection[], iouThreshold: number): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    const distinct = kept.every((k) => !sameFace(k.box, d.box, iouThreshold));
    if (distinct) kept.push(d);
  }
  return kept;
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
  return searchHarder(net, image, options, scaleResults);
}
