/**
 * Describing face chips with a descriptor net (the models, one file each: descriptors/), all
 * faces of a batch in one run, and the distances descriptors are compared by.
 */
import type { RgbImage } from './image.js';
import { flipHorizontal, nhwcBatch } from './image.js';

/** dlib's ResNet descriptor length (the default `size` of describeFaces). */
export const DESCRIPTOR_SIZE = 128;

export type DescriptorMetric = 'euclidean' | 'cosine';

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
