import { priorBoxes, type DetectorNet } from '../../functions/core/faces/detection-passes.js';
import type { RgbImage } from '../../functions/core/faces/image.js';
import type { Box } from '../../functions/core/faces/types.js';

/**
 * A stand-in for RFB-320: for each input, `report` says which box (in the input's pixels) the
 * net finds and with what score; it is encoded on the anchor nearest to it, the way the real net
 * regresses from its priors, so that decodePass gives the box back. `calls` records each
 * input's width.
 */
export function fakeDetector(report: (input: RgbImage) => { box: Box; score: number } | undefined) {
  const calls: number[] = [];
  const net: DetectorNet = async (input) => {
    calls.push(input.width);
    const priors = priorBoxes(input.width, input.height);
    const n = priors.length / 4;
    const scores = new Float32Array(n * 2);
    const locations = new Float32Array(n * 4);
    const found = report(input);
    if (!found) return { scores, locations };
    const { box } = found;
    const t = {
      cx: (box.x + box.width / 2) / input.width,
      cy: (box.y + box.height / 2) / input.height,
      w: box.width / input.width,
      h: box.height / input.height,
    };
    let best = 0;
    const d = (j: number) =>
      Math.abs(priors[j * 4] - t.cx) +
      Math.abs(priors[j * 4 + 1] - t.cy) +
      Math.abs(Math.log(priors[j * 4 + 2] / t.w));
    for (let i = 1; i < n; i++) if (d(i) < d(best)) best = i;
    const [pcx, pcy, pw, ph] = priors.slice(best * 4, best * 4 + 4);
    locations.set(
      [
        (t.cx - pcx) / (0.1 * pw),
        (t.cy - pcy) / (0.1 * ph),
        Math.log(t.w / pw) / 0.2,
        Math.log(t.h / ph) / 0.2,
      ],
      best * 4,
    );
    scores[best * 2 + 1] = found.score;
    return { scores, locations };
  };
  return { net, calls };
}
