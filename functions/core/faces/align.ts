/**
 * Alignment: the 150x150 chip the descriptor net expects. Two ways, measured against each
 * other in docs/benchmarks.md:
 * - `dlib-chip`: dlib's get_face_chip_details for its 5-point model (the chips dlib's ResNet
 *   was trained on): a least-squares similarity transform from 5 landmarks to dlib's mean
 *   face, padding 0.25.
 * - `landmark-box`: face-api's default: the landmarks' bounding box, padded by 20%, made square
 *   with black bars, resized (no rotation).
 */
import { DESCRIPTOR_INPUT_SIZE, MOBILEFACENET_INPUT_SIZE } from './model-manifest.js';
import type { RgbImage } from './image.js';
import type { Point } from './types.js';
import type { Affine } from './warp.js';
import { squareToRegion, warpAffine } from './warp.js';

/** dlib's ResNet chip side. */
export const CHIP_SIZE = DESCRIPTOR_INPUT_SIZE;
export type AlignmentMethod = 'dlib-chip' | 'landmark-box';

/** dlib's 5-point mean face (shape_predictor_5_face_landmarks order), in 0..1 of the chip. */
const DLIB_FIVE_POINT_TEMPLATE: Point[] = [
  { x: 0.8595674595992, y: 0.2134981538014 },
  { x: 0.6460604764104, y: 0.2289674387677 },
  { x: 0.1205750620789, y: 0.2137274526848 },
  { x: 0.3340850613712, y: 0.2290642403242 },
  { x: 0.4901123135679, y: 0.6277975316475 },
];

/** The 68-point indices matching dlib's 5 points: eye corners (image right outer, right inner,
 * left outer, left inner) and the base of the nose. */
const FIVE_FROM_68 = [45, 42, 36, 39, 33];

/**
 * Least-squares similarity transform (rotation, uniform scale, translation) taking `from` to
 * `to`; in complex numbers z -> c z + t with c = sum(conj(a) b) / sum(|a|^2) on centred points.
 */
export function similarityTransform(from: Point[], to: Point[]): Affine {
  const n = from.length;
  const mf = { x: from.reduce((s, p) => s + p.x, 0) / n, y: from.reduce((s, p) => s + p.y, 0) / n };
  const mt = { x: to.reduce((s, p) => s + p.x, 0) / n, y: to.reduce((s, p) => s + p.y, 0) / n };
  let re = 0;
  let im = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const ax = from[i].x - mf.x;
    const ay = from[i].y - mf.y;
    const bx = to[i].x - mt.x;
    const by = to[i].y - mt.y;
    re += ax * bx + ay * by;
    im += ax * by - ay * bx;
    norm += ax * ax + ay * ay;
  }
  const cr = re / norm;
  const ci = im / norm;
  return {
    a: cr,
    b: -ci,
    c: mt.x - (cr * mf.x - ci * mf.y),
    d: ci,
    e: cr,
    f: mt.y - (ci * mf.x + cr * mf.y),
  };
}

export function dlibChipTransform(landmarks: Point[], padding = 0.25, size = CHIP_SIZE): Affine {
  const chipPoints = DLIB_FIVE_POINT_TEMPLATE.map((p) => ({
    x: ((padding + p.x) / (2 * padding + 1)) * size,
    y: ((padding + p.y) / (2 * padding + 1)) * size,
  }));
  return similarityTransform(
    chipPoints,
    FIVE_FROM_68.map((i) => landmarks[i]),
  );
}

/** ArcFace / InsightFace's 5 reference points of the 112x112 chip (eye centres, nose tip,
 * mouth corners; image left first), the chips MobileFaceNet was trained on. */
const ARCFACE_112_TEMPLATE: Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];
const ARCFACE_CHIP_SIZE = MOBILEFACENET_INPUT_SIZE;

const mean = (landmarks: Point[], indices: number[]): Point => ({
  x: indices.reduce((s, i) => s + landmarks[i].x, 0) / indices.length,
  y: indices.reduce((s, i) => s + landmarks[i].y, 0) / indices.length,
});

/** The 5 ArcFace points from the 68 landmarks, as faceplugin's fr_feature.js takes them (eye
 * centres from 4 eyelid points, nose tip, mouth corners from the outer and inner lip corners). */
function arcfaceFivePoints(landmarks: Point[]): Point[] {
  return [
    mean(landmarks, [37, 38, 40, 41]),
    mean(landmarks, [43, 44, 46, 47]),
    landmarks[30],
    mean(landmarks, [48, 60]),
    mean(landmarks, [54, 64]),
  ];
}

const midpoint = (a: Point, b: Point): Point => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
const span = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
/** The face's two spans in 5 points: between the eyes, and from between the eyes to between the
 * mouth corners. */
const faceSpans = (p: Point[]) => ({
  eyes: span(p[0], p[1]),
  eyesToMouth: span(midpoint(p[0], p[1]), midpoint(p[3], p[4])),
});
const TEMPLATE_SPANS = faceSpans(ARCFACE_112_TEMPLATE);

/**
 * Chip -> image transform of the 112x112 ArcFace chip. The rotation is the least-squares
 * similarity over the 5 points (InsightFace's norm_crop); the scale is the LARGER of what the
 * two spans give (eye distance, eyes-to-mouth distance, each against the template's), and the
 * template's eye midpoint goes to the face's.
 *
 * Why not the least-squares scale: a span only ever comes out too short, never too long. A
 * turned head shortens the eye distance, a bowed one the eyes-to-mouth distance, and the
 * 68-point net, when its square takes in hair or neck (the detector's box is then tall), puts
 * the mouth too close to the eyes. The least-squares scale follows the short span, so the chip
 * zooms in on such faces and they are missed (docs/benchmarks.md, "What changed for the default,
 * and how each choice was made").
 */
export function arcfaceChipTransform(landmarks: Point[]): Affine {
  const five = arcfaceFivePoints(landmarks);
  const fit = similarityTransform(ARCFACE_112_TEMPLATE, five);
  const spans = faceSpans(five);
  const scale = Math.max(spans.eyes / TEMPLATE_SPANS.eyes, spans.eyesToMouth / TEMPLATE_SPANS.eyesToMouth);
  const k = scale / Math.hypot(fit.a, fit.d);
  const [a, b, d, e] = [fit.a * k, fit.b * k, fit.d * k, fit.e * k];
  const from = midpoint(ARCFACE_112_TEMPLATE[0], ARCFACE_112_TEMPLATE[1]);
  const to = midpoint(five[0], five[1]);
  return { a, b, c: to.x - (a * from.x + b * from.y), d, e, f: to.y - (d * from.x + e * from.y) };
}

/** `zoom` > 1 takes in more around the face (the chip scaled about its centre), < 1 less. */
export function arcfaceChip(image: RgbImage, landmarks: Point[], zoom = 1): RgbImage {
  const t = arcfaceChipTransform(landmarks);
  const c = ARCFACE_CHIP_SIZE / 2;
  // chip pixel u -> t(c + zoom (u - c))
  const [a, b, d, e] = [t.a * zoom, t.b * zoom, t.d * zoom, t.e * zoom];
  const scaled = {
    a,
    b,
    c: t.c + (t.a + t.b - a - b) * c,
    d,
    e,
    f: t.f + (t.d + t.e - d - e) * c,
  };
  return warpAffine(image, scaled, ARCFACE_CHIP_SIZE, ARCFACE_CHIP_SIZE);
}

function landmarkBoxChip(image: RgbImage, landmarks: Point[], size: number): RgbImage {
  const xs = landmarks.map((p) => p.x);
  const ys = landmarks.map((p) => p.y);
  let x0 = Math.min(...xs);
  let y0 = Math.min(...ys);
  let w = Math.max(...xs) - x0;
  let h = Math.max(...ys) - y0;
  x0 -= w * 0.1;
  y0 -= h * 0.1;
  w *= 1.2;
  h *= 1.2;
  const side = Math.max(w, h);
  const sx = x0 + w / 2 - side / 2;
  const sy = y0 + h / 2 - side / 2;
  const chip = warpAffine(image, squareToRegion(sx, sy, side, size), size, size);
  // face-api pads the short side with black rather than showing the surroundings.
  const scale = size / side;
  const left = Math.round((x0 - sx) * scale);
  const right = Math.round((x0 + w - sx) * scale);
  const top = Math.round((y0 - sy) * scale);
  const bottom = Math.round((y0 + h - sy) * scale);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      if (u < left || u >= right || v < top || v >= bottom)
        chip.data.fill(0, (v * size + u) * 3, (v * size + u) * 3 + 3);
    }
  }
  return chip;
}

export function alignFace(
  image: RgbImage,
  landmarks: Point[],
  method: AlignmentMethod,
  size = CHIP_SIZE,
): RgbImage {
  if (method === 'landmark-box') return landmarkBoxChip(image, landmarks, size);
  return warpAffine(image, dlibChipTransform(landmarks, 0.25, size), size, size);
}
