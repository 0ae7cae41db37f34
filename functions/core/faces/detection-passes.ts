/**
 * The detector's primitives: Ultra-Light-Fast-Generic-Face-Detector RFB-320, freed from its
 * 320x240 input (models/convert/detector.ts), returns raw scores and box regressions for any
 * input size; the prior boxes are generated and decoded here. Also the settings of detection,
 * the passes' plan and the NMS that merges boxes. The strategy that uses them (which passes,
 * when to look again) is detect-faces.ts's `detectFaces`, with redetect.ts and multi-scale-fallback.ts.
 */
import { DETECTOR_INPUT_HEIGHT, DETECTOR_INPUT_WIDTH } from './model-manifest.js';
import { DEFAULT_MIN_FACE_SCORE, DEFAULT_MIN_FACE_SIZE } from '../facts.js';
import type { RgbImage } from './image.js';
import type { Box } from './types.js';

/** The input size RFB-320 was trained at (the coarse pass's frame). */
const DETECTOR_WIDTH = DETECTOR_INPUT_WIDTH;
const DETECTOR_HEIGHT = DETECTOR_INPUT_HEIGHT;

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
   * find a face for the fallback to keep it; 0 turns the fallback off (multi-scale-fallback.ts). */
  fallbackMinScales: number;
  /** Faces whose box side is at least this fraction of the coarse pass's input height are
   * detected again in a crop around them (redetect.ts); 0 turns it off. */
  redetectFrom: number;
  /** The crop's side, in face box sides. */
  redetectContext: number;
}

export const DEFAULT_DETECT_OPTIONS: DetectOptions = {
  minScore: DEFAULT_MIN_FACE_SCORE,
  minFaceSize: DEFAULT_MIN_FACE_SIZE,
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
