import { detectFaces, fineDetectionsToKeep } from '#functions/core/faces/detect-faces.js';
import {
  DEFAULT_DETECT_OPTIONS,
  decodePass,
  planPasses,
  priorBoxes,
  suppressOverlaps,
} from '#functions/core/faces/detection-passes.js';
import { fakeDetector } from '#test/support/fake-detector.js';

describe('planPasses', () => {
  it('uses one coarse pass when the smallest face is already big enough', () => {
    const plan = planPasses(640, 480, { ...DEFAULT_DETECT_OPTIONS, minFaceSize: 40 });
    expect(plan.coarse).toEqual({ scale: 0.5, width: 320, height: 240 });
    expect(plan.fine).toBeUndefined();
  });

  it('adds a fine pass that makes a 40 px face 20 detector pixels in a 1080p frame', () => {
    const plan = planPasses(1920, 1080, DEFAULT_DETECT_OPTIONS);
    expect(plan.coarse.width).toBe(320);
    expect(plan.coarse.height).toBe(180);
    expect(plan.fine).toEqual({ scale: 0.5, width: 960, height: 540 });
  });

  it('caps the fine pass of a very large image at maxFinePixels', () => {
    const plan = planPasses(2560, 1707, { ...DEFAULT_DETECT_OPTIONS, minFaceSize: 12 });
    expect(plan.fine!.width * plan.fine!.height).toBeLessThanOrEqual(1_000_000 * 1.01);
  });

  it('never enlarges beyond maxUpscale', () => {
    const plan = planPasses(100, 80, DEFAULT_DETECT_OPTIONS);
    expect(plan.coarse.scale).toBe(2);
    expect(plan.fine).toBeUndefined();
  });
});

describe('priorBoxes', () => {
  it('lays out the 4420 anchors of the 320x240 export', () => {
    const p = priorBoxes(320, 240);
    expect(p.length / 4).toBe(4420);
    // first anchor: first cell of the stride-8 grid, 10 px box
    expect(Array.from(p.slice(0, 4))).toEqual([0.5 / 40, 0.5 / 30, 10 / 320, 10 / 240].map(Math.fround));
    // last anchor: last cell of the stride-64 grid (5x4 cells), 256 px box
    expect(Array.from(p.slice(-4))).toEqual([4.5 / 5, 3.5 / 4, 256 / 320, 1].map(Math.fround)); // 256/240 clamped
  });

  it('follows the input size (ceil of size / stride cells per level)', () => {
    const cells = (w: number, h: number) => [8, 16, 32, 64].map((s) => Math.ceil(w / s) * Math.ceil(h / s));
    const [a, b, c, d] = cells(960, 540);
    expect(priorBoxes(960, 540).length / 4).toBe(a * 3 + b * 2 + c * 2 + d * 3);
  });
});

describe('decodePass', () => {
  const pass = { scale: 0.5, width: 320, height: 240 };
  const anchors = 4420;

  it('decodes a zero regression to the prior box, in image pixels, and applies the score floor', () => {
    const scores = new Float32Array(anchors * 2);
    const locations = new Float32Array(anchors * 4);
    const priors = priorBoxes(320, 240);
    const i = 1000;
    scores[i * 2 + 1] = 0.9;
    scores[5 * 2 + 1] = 0.5; // below the floor
    const [cx, cy, w, h] = priors.slice(i * 4, i * 4 + 4);
    const found = decodePass(scores, locations, pass, 0.7);
    expect(found).toHaveLength(1);
    expect(found[0].score).toBeCloseTo(0.9);
    expect(found[0].box.x).toBeCloseTo((cx - w / 2) * 640, 3);
    expect(found[0].box.y).toBeCloseTo((cy - h / 2) * 480, 3);
    expect(found[0].box.width).toBeCloseTo(w * 640, 3);
    expect(found[0].box.height).toBeCloseTo(h * 480, 3);
  });

  it('refuses outputs of the wrong anchor count', () => {
    expect(() => decodePass(new Float32Array(10), new Float32Array(20), pass, 0.7)).toThrow(/anchors/);
  });
});

describe('suppressOverlaps', () => {
  const box = (x: number, y: number, s: number) => ({ x, y, width: s, height: s });
  it('keeps the best of overlapping boxes and distinct faces', () => {
    const kept = suppressOverlaps(
      [
        { box: box(0, 0, 100), score: 0.8 },
        { box: box(10, 10, 100), score: 0.95 },
        { box: box(300, 0, 100), score: 0.9 },
      ],
      0.4,
    );
    expect(kept.map((k) => k.score)).toEqual([0.95, 0.9]);
  });

  it('drops a box lying inside a better one (a face part seen at another scale)', () => {
    const kept = suppressOverlaps(
      [
        { box: box(0, 0, 100), score: 0.99 },
        { box: box(20, 20, 40), score: 0.9 },
      ],
      0.4,
    );
    expect(kept).toHaveLength(1);
  });
});

describe('fineDetectionsToKeep', () => {
  // 1920x1080: coarse 320x180 (scale 1/6), fine 960x540 (scale 1/2).
  const { coarse, fine } = planPasses(1920, 1080, DEFAULT_DETECT_OPTIONS);
  const face = (x: number, y: number, w: number, h: number, score: number) => ({
    box: { x, y, width: w, height: h },
    score,
  });
  const keep = (f: ReturnType<typeof face>, c: ReturnType<typeof face>[]) =>
    fineDetectionsToKeep([f], c, coarse, fine!, DEFAULT_DETECT_OPTIONS);

  it('leaves a face the fine pass sees larger than maxFineFaceSize to the coarse pass', () => {
    // 480 px high: 240 fine px; the coarse pass found it (a shorter box, as measured).
    const big = face(830, 130, 280, 480, 1);
    expect(keep(big, [face(847, 254, 218, 313, 1)])).toEqual([]);
  });

  it('drops a fine box just over maxFineFaceSize (128 px) that the coarse pass found', () => {
    const over = face(860, 240, 190, 280, 1); // 140 fine px
    expect(keep(over, [face(862, 262, 188, 266, 1)])).toEqual([]);
  });

  it('keeps that fine box when the coarse pass only supports the face weakly', () => {
    const big = face(830, 130, 280, 480, 1);
    expect(keep(big, [face(847, 254, 218, 313, 0.3)])).toEqual([big]);
  });

  it('keeps fine boxes up to maxFineFaceSize even where the coarse pass found the face', () => {
    const mid = face(870, 250, 160, 240, 1); // 120 fine px
    expect(keep(mid, [face(872, 270, 160, 228, 1)])).toEqual([mid]);
  });

  it('still needs coarse support for a box big enough for the coarse pass to judge', () => {
    expect(keep(face(100, 100, 120, 160, 0.95), [])).toEqual([]);
    const small = face(100, 100, 40, 50, 0.95); // 8 coarse px: the fine pass alone decides
    expect(keep(small, [])).toEqual([small]);
  });
});

/** The same image box at every input size, with a score that depends on the input width. */
function fakeNet(
  imageWidth: number,
  box: { x: number; y: number; width: number; height: number },
  scoreAt: (inputWidth: number) => number,
) {
  return fakeDetector((input) => {
    const s = input.width / imageWidth;
    return {
      box: { x: box.x * s, y: box.y * s, width: box.width * s, height: box.height * s },
      score: scoreAt(input.width),
    };
  });
}

describe('detectFaces: the fallback on frames without a face', () => {
  // 854x480: coarse 320 wide (0.375), fine 427 (0.5); fallback 640, 905 and 1280 wide.
  const image = { width: 854, height: 480, data: new Uint8Array(854 * 480 * 3) };
  const box = { x: 312, y: 196, width: 116, height: 150 };
  const options = DEFAULT_DETECT_OPTIONS;

  it('runs no extra pass when the two passes found a face', async () => {
    const { net, calls } = fakeNet(854, box, () => 0.99);
    expect(await detectFaces(net, image, options)).toHaveLength(1);
    expect(calls).toEqual([320, 427]);
  });

  it('finds a face that the coarse and fine scales miss but three others agree on', async () => {
    // test_79 of the workload benchmark: 0.33 at the two usual scales, >= 0.9 at larger ones.
    const { net, calls } = fakeNet(854, box, (w) => (w <= 427 ? 0.33 : 0.98));
    const faces = await detectFaces(net, image, options);
    expect(calls).toEqual([320, 427, 640, 905, 1280]);
    expect(faces).toHaveLength(1);
    expect(faces[0].box.x).toBeCloseTo(box.x, 0);
    expect(faces[0].box.width).toBeCloseTo(box.width, 0);
  });

  it('keeps nothing that fewer scales agree on (what enlarging invents)', async () => {
    const { net } = fakeNet(854, box, (w) => (w === 905 || w === 1280 ? 0.95 : 0.1));
    expect(await detectFaces(net, image, options)).toEqual([]);
  });

  it('stops after one extra scale on a frame with nothing: no face could reach three scales', async () => {
    const { net, calls } = fakeNet(854, box, () => 0.05);
    expect(await detectFaces(net, image, options)).toEqual([]);
    expect(calls).toEqual([320, 427, 640]);
  });

  it('is off with fallbackMinScales 0', async () => {
    const { net, calls } = fakeNet(854, box, (w) => (w <= 427 ? 0.33 : 0.98));
    expect(await detectFaces(net, image, { ...options, fallbackMinScales: 0 })).toEqual([]);
    expect(calls).toEqual([320, 427]);
  });
});
