/**
 * 68-point landmarks with face-api's FaceLandmark68Net (converted to ONNX: input [N,112,112,3]
 * 8-bit RGB, output [N,136] as x,y pairs in 0..1 of the input square).
 *
 * The first pass looks at a square around the detection box. The net was trained on face-api's
 * own detector boxes, and RFB-320's differ and vary with the face's size and place; optional
 * refinement passes look at the square in which the previous pass's landmarks sit where the net
 * expects a face (their median placement on 45 well-detected faces of 11 group photos), turned
 * so that the eyes are level (the net was trained on upright faces: an upright refined square
 * made a tilted head's landmarks worse with each pass). A pass whose square shrinks sharply is
 * not taken (MIN_SIDE_RATIO). Off by default; the trade-off measured in docs/benchmarks.md.
 */
import { LANDMARKS_INPUT_SIZE } from './model-manifest.js';
import type { RgbImage } from './image.js';
import { nhwcBatch } from './image.js';
import type { Box, Point } from './types.js';
import type { Affine } from './warp.js';
import { squareToRegion, warpAffine } from './warp.js';

export const LANDMARK_INPUT_SIZE = LANDMARKS_INPUT_SIZE;

/** Runs the landmark net on `count` NHWC images; returns count x 136 values. */
export type LandmarkNet = (batch: Uint8Array, count: number) => Promise<Float32Array>;

/** The square the net looks at: `x`, `y`, `side` as if upright, turned by `angle` (radians,
 * clockwise in image coordinates) about its centre. */
export interface Square {
  x: number;
  y: number;
  side: number;
  angle: number;
}

/** Median extent of the 68 landmarks within the net's input square (fractions of its side). */
const PLACEMENT = { left: 0.131, right: 0.885, top: 0.258, bottom: 0.975 };

/** First-pass square: centred on the detection, as wide as its longer side times `scale`,
 * upright. */
export function landmarkSquare(box: Box, scale = 1): Square {
  const side = Math.max(box.width, box.height) * scale;
  return { x: box.x + box.width / 2 - side / 2, y: box.y + box.height / 2 - side / 2, side, angle: 0 };
}

const mean = (ps: Point[]) => ({
  x: ps.reduce((a, p) => a + p.x, 0) / ps.length,
  y: ps.reduce((a, p) => a + p.y, 0) / ps.length,
});

/** The angle of the line from the (image) left eye's centre to the right eye's. */
export function eyeLineAngle(landmarks: Point[]): number {
  const left = mean(landmarks.slice(36, 42));
  const right = mean(landmarks.slice(42, 48));
  return Math.atan2(right.y - left.y, right.x - left.x);
}

const rotate = (p: Point, about: Point, angle: number): Point => {
  const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
  const dx = p.x - about.x;
  const dy = p.y - about.y;
  return { x: about.x + cos * dx - sin * dy, y: about.y + sin * dx + cos * dy };
};

/** The square, turned by `angle`, in which `landmarks` sit as the net expects a face to sit. */
export function squareAroundLandmarks(landmarks: Point[], angle = 0): Square {
  // Measured in the frame where the square is upright: the landmarks turned back by `angle`.
  const pivot = mean(landmarks);
  const upright = landmarks.map((p) => rotate(p, pivot, -angle));
  const xs = upright.map((p) => p.x);
  const ys = upright.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // Height and width each give the side; their mean is steadier under head turns.
  const side =
    ((x1 - x0) / (PLACEMENT.right - PLACEMENT.left) + (y1 - y0) / (PLACEMENT.bottom - PLACEMENT.top)) / 2;
  const centre = rotate(
    {
      x: (x0 + x1) / 2 + (0.5 - (PLACEMENT.left + PLACEMENT.right) / 2) * side,
      y: (y0 + y1) / 2 + (0.5 - (PLACEMENT.top + PLACEMENT.bottom) / 2) * side,
    },
    pivot,
    angle,
  );
  return { x: centre.x - side / 2, y: centre.y - side / 2, side, angle };
}

/** Input pixel -> image point for the net's `size` x `size` view of `sq`. */
export function squareTransform(sq: Square, size: number): Affine {
  const t = squareToRegion(sq.x, sq.y, sq.side, size);
  if (sq.angle === 0) return t;
  const [cos, sin] = [Math.cos(sq.angle), Math.sin(sq.angle)];
  const cx = sq.x + sq.side / 2;
  const cy = sq.y + sq.side / 2;
  return {
    a: cos * t.a,
    b: -sin * t.e,
    c: cx + cos * (t.c - cx) - sin * (t.f - cy),
    d: sin * t.a,
    e: cos * t.e,
    f: cy + sin * (t.c - cx) + cos * (t.f - cy),
  };
}

/** One landmark run over every square, each cut from its own image (faces of several frames). */
async function landmarksIn(
  net: LandmarkNet,
  views: { image: RgbImage; square: Square }[],
): Promise<Point[][]> {
  const size = LANDMARK_INPUT_SIZE;
  const crops = views.map(({ image, square }) =>
    warpAffine(image, squareTransform(square, size), size, size),
  );
  const out = await net(nhwcBatch(crops), views.length);
  return views.map(({ square: sq }, i) => {
    const centre = { x: sq.x + sq.side / 2, y: sq.y + sq.side / 2 };
    return Array.from({ length: 68 }, (_, j) =>
      rotate(
        { x: sq.x + out[i * 136 + j * 2] * sq.side, y: sq.y + out[i * 136 + j * 2 + 1] * sq.side },
        centre,
        sq.angle,
      ),
    );
  });
}

/** Squares closer than this (fraction of the side; radians) give the same landmarks: stop. */
const CONVERGED = 0.03;
/**
 * A refined square less than this times the previous one's side means the previous landmarks
 * came out squashed (what the net does on a face it does not make out: a bowed head behind
 * hair, a box that took in the hair), not that the face is smaller: such squares go on
 * shrinking pass after pass and take the descriptor away from the person's (docs/benchmarks.md,
 * "Accuracy: history"). Keep the previous landmarks. Growing is left alone (a box cut by the
 * image's edge gives a larger refined square, rightly).
 */
const MIN_SIDE_RATIO = 0.8;

const shift = (a: Square, b: Square) =>
  Math.max(Math.abs(a.x - b.x), Math.abs(a.y - b.y), Math.abs(a.side - b.side)) / a.side;

/** `refinements`: how many more passes may follow the first (0 = one pass only). Each looks at
 * the square in which the previous pass's landmarks sit, turned to level their eyes.
 * `squareScale`: the first square's side in units of the box's longer side (landmarkSquare). */
export async function findLandmarks(
  net: LandmarkNet,
  image: RgbImage,
  boxes: Box[],
  refinements: number,
  squareScale = 1,
): Promise<Point[][]> {
  const [landmarks] = await findLandmarksInImages(net, [{ image, boxes }], refinements, squareScale);
  return landmarks;
}

/**
 * findLandmarks for the faces of several images at once: every face of every image goes through
 * the net in one run per pass (a batch costs less per face than runs of one: the net's weights
 * are read once, and onnxruntime's threads get more work per call). Returns per image, per box.
 */
export async function findLandmarksInImages(
  net: LandmarkNet,
  images: { image: RgbImage; boxes: Box[] }[],
  refinements: number,
  squareScale = 1,
): Promise<Point[][][]> {
  const faces = images.flatMap(({ image, boxes }, i) => boxes.map((box) => ({ image, box, of: i })));
  const result = images.map((): Point[][] => []);
  if (faces.length === 0) return result;
  const squares = faces.map((f) => landmarkSquare(f.box, squareScale));
  const landmarks = await landmarksIn(
    net,
    faces.map((f, i) => ({ image: f.image, square: squares[i] })),
  );
  const active = new Set(squares.map((_, i) => i));
  for (let round = 0; round < refinements && active.size > 0; round++) {
    const next = new Map<number, Square>();
    for (const i of active) {
      const sq = squareAroundLandmarks(landmarks[i], eyeLineAngle(landmarks[i]));
      const moved = shift(squares[i], sq);
      const turned = Math.abs(sq.angle - squares[i].angle);
      const shrunk = sq.side < squares[i].side * MIN_SIDE_RATIO;
      if (shrunk || (moved <= CONVERGED && turned <= CONVERGED)) active.delete(i);
      else next.set(i, sq);
    }
    if (next.size === 0) break;
    const todo = [...next.keys()];
    const refined = await landmarksIn(
      net,
      todo.map((i) => ({ image: faces[i].image, square: next.get(i)! })),
    );
    todo.forEach((i, j) => {
      squares[i] = next.get(i)!;
      landmarks[i] = refined[j];
    });
  }
  faces.forEach((f, i) => result[f.of].push(landmarks[i]));
  return result;
}
