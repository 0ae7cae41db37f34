/**
 * 68-point landmarks with face-api's FaceLandmark68Net (converted to ONNX: input [N,112,112,3]
 * RGB 0..255, output [N,136] as x,y pairs in 0..1 of the input square).
 */
import type { RgbImage } from './image.js';
import { writeNhwc } from './image.js';
import type { Box, Point } from './types.js';
import { squareToRegion, warpAffine } from './warp.js';

export const LANDMARK_INPUT_SIZE = 112;

/** Runs the landmark net on `count` NHWC images; returns count x 136 values. */
export type LandmarkNet = (batch: Float32Array, count: number) => Promise<Float32Array>;

/**
 * The square the landmark net looks at: centred on the detection, as wide as its longer side.
 * face-api feeds its own detector's box padded to a square; RFB-320 boxes are of similar extent.
 */
export function landmarkSquare(box: Box): { x: number; y: number; side: number } {
  const side = Math.max(box.width, box.height);
  return { x: box.x + box.width / 2 - side / 2, y: box.y + box.height / 2 - side / 2, side };
}

export async function findLandmarks(net: LandmarkNet, image: RgbImage, boxes: Box[]): Promise<Point[][]> {
  if (boxes.length === 0) return [];
  const size = LANDMARK_INPUT_SIZE;
  const squares = boxes.map(landmarkSquare);
  const batch = new Float32Array(boxes.length * size * size * 3);
  squares.forEach((sq, i) => {
    writeNhwc(
      warpAffine(image, squareToRegion(sq.x, sq.y, sq.side, size), size, size),
      batch,
      i * size * size * 3,
    );
  });
  const out = await net(batch, boxes.length);
  return squares.map((sq, i) =>
    Array.from({ length: 68 }, (_, j) => ({
      x: sq.x + out[i * 136 + j * 2] * sq.side,
      y: sq.y + out[i * 136 + j * 2 + 1] * sq.side,
    })),
  );
}
