/**
 * 68-point landmarks with face-api's FaceLandmark68Net (converted to ONNX: input [N,112,112,3]
 * RGB 0..255, output [N,136] as x,y pairs in 0..1 of the input square).
 *
 * The first pass looks at a square around the detection box. The net was trained on face-api's
 * own detector boxes, and RFB-320's differ and vary with the face's size and place; optional
 * refinement passes look at the square in which the previous pass's landmarks sit where the net
 * expects a face (their median placement on 45 well-detected faces of 11 group photos). It
 * steadies descriptors across scales and helps on labelled crops, but costs 3 of 100 names in
 * the pipeline benchmark, so it is off by default (docs/benchmarks.md).
 */
import type { RgbImage } from './image.js';
import { writeNhwc } from './image.js';
import type { Box, Point } from './types.js';
import { squareToRegion, warpAffine } from './warp.js';

export const LANDMARK_INPUT_SIZE = 112;

/** Runs the landmark net on `count` NHWC images; returns count x 136 values. */
export type LandmarkNet = (batch: Float32Array, count: number) => Promise<Float32Array>;

export interface Square {
  x: number;
  y: number;
  side: number;
}

/** Median extent of the 68 landmarks within the net's input square (fractions of its side). */
const PLACEMENT = { left: 0.131, right: 0.885, top: 0.258, bottom: 0.975 };

/** First-pass square: centred on the detection, as wide as its longer side. */
export function landmarkSquare(box: Box): Square {
  const side = Math.max(box.width, box.height);
  return { x: box.x + box.width / 2 - side / 2, y: box.y + box.height / 2 - side / 2, side };
}

/** The square in which `landmarks` sit as the net expects a face to sit. */
export function squareAroundLandmarks(landmarks: Point[]): Square {
  const xs = landmarks.map((p) => p.x);
  const ys = landmarks.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // Height and width each give the side; their mean is steadier under head turns.
  const side =
    ((x1 - x0) / (PLACEMENT.right - PLACEMENT.left) + (y1 - y0) / (PLACEMENT.bottom - PLACEMENT.top)) / 2;
  return {
    x: (x0 + x1) / 2 - ((PLACEMENT.left + PLACEMENT.right) / 2) * side,
    y: (y0 + y1) / 2 - ((PLACEMENT.top + PLACEMENT.bottom) / 2) * side,
    side,
  };
}

async function landmarksIn(net: LandmarkNet, image: RgbImage, squares: Square[]): Promise<Point[][]> {
  const size = LANDMARK_INPUT_SIZE;
  const batch = new Float32Array(squares.length * size * size * 3);
  squares.forEach((sq, i) => {
    writeNhwc(
      warpAffine(image, squareToRegion(sq.x, sq.y, sq.side, size), size, size),
      batch,
      i * size * size * 3,
    );
  });
  const out = await net(batch, squares.length);
  return squares.map((sq, i) =>
    Array.from({ length: 68 }, (_, j) => ({
      x: sq.x + out[i * 136 + j * 2] * sq.side,
      y: sq.y + out[i * 136 + j * 2 + 1] * sq.side,
    })),
  );
}

/** Squares closer than this (fraction of the side) give the same landmarks: stop refining. */
const CONVERGED = 0.03;

const moved = (a: Square, b: Square) =>
  Math.max(Math.abs(a.x - b.x), Math.abs(a.y - b.y), Math.abs(a.side - b.side)) / a.side;

/** `refinements`: how many more passes may follow the first (0 = one pass only). */
export async function findLandmarks(
  net: LandmarkNet,
  image: RgbImage,
  boxes: Box[],
  refinements: number,
): Promise<Point[][]> {
  if (boxes.length === 0) return [];
  const squares = boxes.map(landmarkSquare);
  const landmarks = await landmarksIn(net, image, squares);
  for (let round = 0; round < refinements; round++) {
    const next = landmarks.map(squareAroundLandmarks);
    const todo = next.map((sq, i) => i).filter((i) => moved(squares[i], next[i]) > CONVERGED);
    if (todo.length === 0) break;
    const refined = await landmarksIn(
      net,
      image,
      todo.map((i) => next[i]),
    );
    todo.forEach((i, j) => {
      squares[i] = next[i];
      landmarks[i] = refined[j];
    });
  }
  return landmarks;
}
