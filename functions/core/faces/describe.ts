/**
 * 128-D face descriptors with dlib's ResNet (face-api's FaceRecognitionNet converted to ONNX:
 * input [N,150,150,3] 8-bit RGB, output [N,128]). All faces of a frame go through in one batch.
 */
import type { RgbImage } from './image.js';
import { flipHorizontal, nhwcBatch } from './image.js';

export const DESCRIPTOR_SIZE = 128;

/** Runs the descriptor net on `count` 150x150 NHWC RGB chips; returns count x 128 values. */
export type DescriptorNet = (batch: Uint8Array, count: number) => Promise<Float32Array>;

/**
 * With `mirror`, each chip and its mirror image are described and the two averaged: the
 * network is not exactly symmetric, and the average is a steadier description of the face.
 */
export async function describeFaces(
  net: DescriptorNet,
  chips: RgbImage[],
  mirror: boolean,
): Promise<Float32Array[]> {
  if (chips.length === 0) return [];
  const inputs = mirror ? [...chips, ...chips.map(flipHorizontal)] : chips;
  const out = await net(nhwcBatch(inputs), inputs.length);
  return chips.map((_, i) => {
    const d = out.slice(i * DESCRIPTOR_SIZE, (i + 1) * DESCRIPTOR_SIZE);
    if (mirror) {
      const m = (chips.length + i) * DESCRIPTOR_SIZE;
      for (let j = 0; j < DESCRIPTOR_SIZE; j++) d[j] = (d[j] + out[m + j]) / 2;
    }
    return d;
  });
}

export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return Math.sqrt(sum);
}
