/**
 * Re-detection of large faces in a crop around them.
 *
 * Why: RFB-320 was trained at 320x240 on WIDER FACE, where faces rarely fill the frame; on a
 * close-up its largest anchors give erratic boxes (the hair taken in, the face slid off), the
 * landmarks collapse and the descriptor drifts from the person's. In a crop twice the box's
 * side the face fills about half of the net's input, and the drift goes. Cost: one 240x240
 * detector run per close-up face. Figures: docs/benchmarks.md, "Detection: history".
 */
import type { Detection, DetectionPass, DetectOptions, DetectorNet } from './detection-passes.js';
import { decodePass, overlap } from './detection-passes.js';
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
