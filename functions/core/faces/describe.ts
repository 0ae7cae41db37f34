/**
 * Face descriptors. Two networks, chosen by FACEREC_DESCRIPTOR (measured against each other in
 * docs/benchmarks.md):
 * - `dlib-resnet`: dlib's ResNet (face-api's FaceRecognitionNet converted to ONNX): 150x150
 *   chips, 128-D, compared by Euclidean distance;
 * - `mobilefacenet`: MobileFaceNet (faceplugin's fr_feature.onnx): 112x112 ArcFace chips, 512-D,
 *   L2-normalised, compared by cosine distance (1 - cosine similarity).
 * All faces of a frame go through in one batch.
 */
import {
  DESCRIPTOR_INPUT_SIZE,
  MOBILEFACENET_INPUT_SIZE,
  MOBILEFACENET_OUTPUT_SIZE,
} from '../../../models/manifest.js';
import type { RgbImage } from './image.js';
import { flipHorizontal, nhwcBatch } from './image.js';

/** dlib's ResNet descriptor length (the default `size` of describeFaces). */
export const DESCRIPTOR_SIZE = 128;

export const DESCRIPTOR_KINDS = ['dlib-resnet', 'mobilefacenet'] as const;
export type DescriptorKind = (typeof DESCRIPTOR_KINDS)[number];
export type DescriptorMetric = 'euclidean' | 'cosine';

export interface DescriptorSpec {
  kind: DescriptorKind;
  /** Length of one descriptor. */
  size: number;
  /** Side of the square chip the net takes. */
  chipSize: number;
  metric: DescriptorMetric;
  /** The 1:1 distance threshold (same person at or under it): `facerec compare`, and the
   * ceiling of the 1:N decision (functions/core/faces/open-set.ts). */
  pairThreshold: number;
  /** Average with the mirror image unless FACEREC_MIRROR_DESCRIPTOR says otherwise. */
  mirrorByDefault: boolean;
  /** The 68-point net's first square, in units of the detector box's longer side. */
  landmarkSquareScale: number;
}

export const DESCRIPTORS: Record<DescriptorKind, DescriptorSpec> = {
  // dlib's own 0.6 (docs/benchmarks.md: calibrating it on labelled data did not beat it).
  'dlib-resnet': {
    kind: 'dlib-resnet',
    size: DESCRIPTOR_SIZE,
    chipSize: DESCRIPTOR_INPUT_SIZE,
    metric: 'euclidean',
    pairThreshold: 0.6,
    mirrorByDefault: true,
    landmarkSquareScale: 1,
  },
  // pairThreshold: between the labelled faces' same-person max (0.638) and different-person min
  // (0.732), on the safe side. No mirror: it doubled the net's time (+24-28% per frame against
  // the 25% allowed) for no gain on open-set identification (docs/benchmarks.md, "Face engine: open set").
  // That is for frames: enrolled photos are always mirror-averaged (engine.ts, AnalyzeOptions).
  // landmarkSquareScale 1.1: the 68-point net, shown the detector's box alone, squashed the
  // landmarks of a bowed head behind hair (eyes 67 px apart where they are 96), and the tight
  // ArcFace chip followed them (own-enrolment distance 0.77); with 10% more context the same
  // frames came out 0.52-0.55 and the pipeline benchmark's misses went from 2 to 1 (1.0 / 1.1 /
  // 1.2 / 1.3 measured, docs/benchmarks.md, "Face engine: open set"). dlib's chip absorbs such errors; its
  // figures were measured at 1.0, which it keeps.
  mobilefacenet: {
    kind: 'mobilefacenet',
    size: MOBILEFACENET_OUTPUT_SIZE,
    chipSize: MOBILEFACENET_INPUT_SIZE,
    metric: 'cosine',
    pairThreshold: 0.65,
    mirrorByDefault: false,
    landmarkSquareScale: 1.1,
  },
};

/** Runs a descriptor net on `count` square NHWC RGB chips; returns count x size values. */
export type DescriptorNet = (batch: Uint8Array, count: number) => Promise<Float32Array>;

/**
 * With `mirror`, each chip and its mirror image are described and the two averaged: the
 * network is not exactly symmetric, and the average is a steadier description of the face.
 * With `normalize`, each descriptor is scaled to unit length (after the average), so that the
 * cosine distance is half the squared Euclidean one.
 */
export async function describeFaces(
  net: DescriptorNet,
  chips: RgbImage[],
  mirror: boolean,
  { size = DESCRIPTOR_SIZE, normalize = false }: { size?: number; normalize?: boolean } = {},
): Promise<Float32Array[]> {
  if (chips.length === 0) return [];
  const inputs = mirror ? [...chips, ...chips.map(flipHorizontal)] : chips;
  const out = await net(nhwcBatch(inputs), inputs.length);
  return chips.map((_, i) => {
    const d = out.slice(i * size, (i + 1) * size);
    if (mirror) {
      const m = (chips.length + i) * size;
      for (let j = 0; j < size; j++) d[j] = (d[j] + out[m + j]) / 2;
    }
    if (normalize) toUnitLength(d);
    return d;
  });
}

/** Scales `v` in place to length 1 (a zero vector stays zero): what cosine descriptors are compared as. */
export function toUnitLength(v: Float32Array): Float32Array {
  let sum = 0;
  for (let j = 0; j < v.length; j++) sum += v[j] * v[j];
  const norm = Math.sqrt(sum) || 1;
  for (let j = 0; j < v.length; j++) v[j] /= norm;
  return v;
}

export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/** 1 - cosine similarity (0: same direction, 2: opposite). */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / (Math.sqrt(na * nb) || 1);
}

/** The distance a descriptor pipeline's metric gives two descriptors. */
export function descriptorDistance(metric: DescriptorMetric, a: ArrayLike<number>, b: ArrayLike<number>) {
  return metric === 'cosine' ? cosineDistance(a, b) : euclideanDistance(a, b);
}
