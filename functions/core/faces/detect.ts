/**
 * Face detection with Ultra-Light-Fast-Generic-Face-Detector RFB-320 (input 1x3x240x320; the
 * exported graph already decodes its prior boxes: `boxes` are x1,y1,x2,y2 in 0..1).
 *
 * One pass over the whole (letterboxed) frame finds the larger faces. The detector's smallest
 * anchors are 10 px and it is reliable from about 16 px, so when the smallest face we must find
 * would shrink below that, overlapping tiles are run at a larger scale. Tiles must not invent
 * faces:
 * - a tile reports only faces too small for the full pass (a large box seen only in a tile is
 *   one the full pass saw well and rejected: on real photos, skin and torsos);
 * - boxes cut by a tile's inner edge are dropped (the overlap guarantees the whole face lies
 *   in a neighbour tile);
 * - a score floor applies everywhere, and overlapping boxes from all passes are merged.
 */
import type { Region, RgbImage } from './image.js';
import { cropResize } from './resize.js';
import type { Box } from './types.js';

export const DETECTOR_WIDTH = 320;
export const DETECTOR_HEIGHT = 240;

export interface Detection {
  box: Box;
  score: number;
}

export interface DetectOptions {
  /** Drop boxes scored below this. */
  minScore: number;
  /** Smallest face (box side, working pixels) that must be found. */
  minFaceSize: number;
  /** The face size, in detector pixels, from which the detector is reliable. */
  reliableFaceSize: number;
  /** Never enlarge the image by more than this to reach `reliableFaceSize`. */
  maxUpscale: number;
  /** IoU above which two boxes are the same face. */
  iouThreshold: number;
}

export const DEFAULT_DETECT_OPTIONS: DetectOptions = {
  minScore: 0.7,
  minFaceSize: 40,
  reliableFaceSize: 16,
  maxUpscale: 2,
  iouThreshold: 0.4,
};

/** Runs the detector network on one 240x320 RGB image; returns raw `scores` and `boxes`. */
export type DetectorNet = (input: RgbImage) => Promise<{ scores: Float32Array; boxes: Float32Array }>;

export interface DetectionPass {
  /** Part of the image this pass looks at. */
  region: Region;
  /** Detector pixels per image pixel. */
  scale: number;
  /** Which sides of the region lie inside the image (where a cut face is expected). */
  inner: { left: boolean; top: boolean; right: boolean; bottom: boolean };
  /** Largest box side (image pixels) this pass may report. */
  maxFaceSize: number;
}

const NO_INNER_EDGES = { left: false, top: false, right: false, bottom: false };

/** Decide the passes: the full frame, plus tiles when small faces would be too small. Pure. */
export function planPasses(width: number, height: number, options: DetectOptions): DetectionPass[] {
  const whole = { x: 0, y: 0, width, height };
  const fullScale = Math.min(DETECTOR_WIDTH / width, DETECTOR_HEIGHT / height);
  const full: DetectionPass = {
    region: whole,
    scale: fullScale,
    inner: NO_INNER_EDGES,
    maxFaceSize: Infinity,
  };
  if (options.minFaceSize * fullScale >= options.reliableFaceSize) return [full];

  const tileScale = Math.min(options.maxUpscale, options.reliableFaceSize / options.minFaceSize);
  if (tileScale <= fullScale) return [full];
  const tileW = Math.min(width, DETECTOR_WIDTH / tileScale);
  const tileH = Math.min(height, DETECTOR_HEIGHT / tileScale);
  if (tileW >= width && tileH >= height) {
    // The whole image fits one enlarged pass, which then replaces the full pass.
    return [{ ...full, scale: tileScale }];
  }
  // Faces at least `reliableFaceSize` in the full pass are found there; smaller ones must fit
  // whole inside some tile, hence this overlap.
  const overlap = Math.ceil((options.reliableFaceSize / fullScale) * 1.15);
  const maxFaceSize = (2 * options.reliableFaceSize) / fullScale;
  const starts = (size: number, tile: number): number[] => {
    if (tile >= size) return [0];
    const n = Math.ceil((size - overlap) / (tile - overlap));
    return Array.from({ length: n }, (_, i) => Math.round((i * (size - tile)) / (n - 1)));
  };
  const passes = [full];
  for (const y of starts(height, tileH)) {
    for (const x of starts(width, tileW)) {
      passes.push({
        region: { x, y, width: tileW, height: tileH },
        scale: tileScale,
        inner: { left: x > 0, top: y > 0, right: x + tileW < width, bottom: y + tileH < height },
        maxFaceSize,
      });
    }
  }
  return passes;
}

/** Letterbox a region into the detector input: scaled by `pass.scale`, padded right/bottom. */
async function letterbox(image: RgbImage, pass: DetectionPass): Promise<RgbImage> {
  const w = Math.min(DETECTOR_WIDTH, Math.max(1, Math.round(pass.region.width * pass.scale)));
  const h = Math.min(DETECTOR_HEIGHT, Math.max(1, Math.round(pass.region.height * pass.scale)));
  const scaled = await cropResize(image, pass.region, w, h);
  if (w === DETECTOR_WIDTH && h === DETECTOR_HEIGHT) return scaled;
  // Mid-grey padding normalises to ~0 in the detector's (v-127)/128: no signal.
  const data = new Uint8Array(DETECTOR_WIDTH * DETECTOR_HEIGHT * 3).fill(127);
  for (let y = 0; y < h; y++)
    data.set(scaled.data.subarray(y * w * 3, (y + 1) * w * 3), y * DETECTOR_WIDTH * 3);
  return { data, width: DETECTOR_WIDTH, height: DETECTOR_HEIGHT };
}

/** Raw outputs -> boxes in image coordinates, without low scores, cut faces or oversize boxes. */
export function decodePass(
  scores: Float32Array,
  boxes: Float32Array,
  pass: DetectionPass,
  minScore: number,
): Detection[] {
  const found: Detection[] = [];
  const edge = 2; // detector pixels: a box this close to an inner tile edge is a cut face
  const usedW = pass.region.width * pass.scale;
  const usedH = pass.region.height * pass.scale;
  for (let i = 0; i < scores.length / 2; i++) {
    const score = scores[i * 2 + 1];
    if (score < minScore) continue;
    const x1 = boxes[i * 4] * DETECTOR_WIDTH;
    const y1 = boxes[i * 4 + 1] * DETECTOR_HEIGHT;
    const x2 = boxes[i * 4 + 2] * DETECTOR_WIDTH;
    const y2 = boxes[i * 4 + 3] * DETECTOR_HEIGHT;
    if (x2 <= x1 || y2 <= y1) continue;
    if (Math.max(x2 - x1, y2 - y1) / pass.scale > pass.maxFaceSize) continue;
    if (pass.inner.left && x1 < edge) continue;
    if (pass.inner.top && y1 < edge) continue;
    if (pass.inner.right && x2 > usedW - edge) continue;
    if (pass.inner.bottom && y2 > usedH - edge) continue;
    const left = Math.max(0, x1) / pass.scale + pass.region.x;
    const top = Math.max(0, y1) / pass.scale + pass.region.y;
    const right = Math.min(usedW, x2) / pass.scale + pass.region.x;
    const bottom = Math.min(usedH, y2) / pass.scale + pass.region.y;
    found.push({ score, box: { x: left, y: top, width: right - left, height: bottom - top } });
  }
  return found;
}

function overlap(a: Box, b: Box): { iou: number; ofSmaller: number } {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return { iou: 0, ofSmaller: 0 };
  const inter = w * h;
  const areaA = a.width * a.height;
  const areaB = b.width * b.height;
  return { iou: inter / (areaA + areaB - inter), ofSmaller: inter / Math.min(areaA, areaB) };
}

/**
 * Greedy non-maximum suppression. Besides IoU, a box lying mostly inside a better one is
 * dropped: passes at different scales otherwise report a face and a part of it.
 */
export function suppressOverlaps(detections: Detection[], iouThreshold: number): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    const distinct = kept.every((k) => {
      const o = overlap(k.box, d.box);
      return o.iou <= iouThreshold && o.ofSmaller <= 0.7;
    });
    if (distinct) kept.push(d);
  }
  return kept;
}

export async function detectFaces(
  net: DetectorNet,
  image: RgbImage,
  options: DetectOptions,
): Promise<Detection[]> {
  const all: Detection[] = [];
  for (const pass of planPasses(image.width, image.height, options)) {
    const { scores, boxes } = await net(await letterbox(image, pass));
    all.push(...decodePass(scores, boxes, pass, options.minScore));
  }
  return suppressOverlaps(all, options.iouThreshold);
}
