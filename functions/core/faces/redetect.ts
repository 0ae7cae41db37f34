/**
 * Re-detection of large faces in a crop around them.
 *
 * Why: RFB-320 was trained at 320x240 on WIDER FACE, where faces rarely fill the frame. When a
 * face takes up most of the detector's input (a close-up), its largest anchors (192, 256 px,
 * clamped to the input) give erratic boxes: at some sizes they take in the hair or slide off the
 * face, the 68 landmarks collapse, and the descriptor lands far from the person's own.
 * Measured by `npm run bench:scale-drift` (the 22 faces of face-api's demo photos, cropped at
 * 1.6x the face and shown at 0.5x..3x): three boxes made descriptors drift 0.42-0.64 from the
 * same face's at its own size. Seen again in a crop twice the box's side, where the face fills
 * about half of the net's input, every drift stays under 0.2 (max 0.642 -> 0.193, p95 0.160 ->
 * 0.114, measured with the fine pass's 192 px limit of the time; today 0.154 / 0.103, see
 * docs/benchmarks.md); a crop of 1.6x left one at 0.34, 2.5x another at 0.43. On the labelled crops
 * (`bench:accuracy`) accuracy at 0.6 went 99.62% -> 99.74%.
 * Cost: one 240x240 detector run (~3 ms) per close-up face; none for other faces.
 */
import type { Detection, DetectionPass, DetectOptions, DetectorNet } from './detector.js';
import { decodePass, overlap } from './detector.js';
import type { RgbImage } from './image.js';
import type { Box } from './types.js';
import { squareToRegion, warpAffine } from './warp.js';

/** Side of the crop the detector sees (pixels). */
const CROP_INPUT = 240;

export async function redetectLargeFaces(
  net: DetectorNet,
  image: RgbImage,
  faces: Detection[],
  isLarge: (box: Box) => boolean,
  options: Pick<DetectOptions, 'minScore' | 'redetectContext'>,
): Promise<Detection[]> {
  const out: Detection[] = [];
  for (const face of faces) {
    if (!isLarge(face.box)) {
      out.push(face);
      continue;
    }
    const side = Math.max(face.box.width, face.box.height) * options.redetectContext;
    const x0 = face.box.x + face.box.width / 2 - side / 2;
    const y0 = face.box.y + face.box.height / 2 - side / 2;
    const crop = warpAffine(image, squareToRegion(x0, y0, side, CROP_INPUT), CROP_INPUT, CROP_INPUT);
    const pass: DetectionPass = { scale: CROP_INPUT / side, width: CROP_INPUT, height: CROP_INPUT };
    const { scores, locations } = await net(crop);
    const inCrop = decodePass(scores, locations, pass, options.minScore).map((d) => ({
      score: d.score,
      box: { ...d.box, x: d.box.x + x0, y: d.box.y + y0 },
    }));
    let best: Detection | undefined;
    let bestIou = 0.3;
    for (const d of inCrop) {
      const { iou } = overlap(d.box, face.box);
      if (iou > bestIou) [best, bestIou] = [d, iou];
    }
    out.push(best ? { score: face.score, box: clipBox(best.box, image) } : face);
  }
  return out;
}

function clipBox(b: Box, image: RgbImage): Box {
  const x = Math.max(0, b.x);
  const y = Math.max(0, b.y);
  const right = Math.min(image.width, b.x + b.width);
  const bottom = Math.min(image.height, b.y + b.height);
  return { x, y, width: right - x, height: bottom - y };
}
