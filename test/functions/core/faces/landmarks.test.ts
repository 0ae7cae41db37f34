import {
  eyeLineAngle,
  findLandmarks,
  LANDMARK_INPUT_SIZE,
  landmarkSquare,
  squareAroundLandmarks,
  squareTransform,
  type LandmarkNet,
} from '#functions/core/faces/landmarks.js';
import { applyAffine } from '#functions/core/faces/warp.js';

/** 68 points spread over the extent the net gives a well-placed face (fractions of the square),
 * eyes (36-41 image left, 42-47 image right) level. */
function unitFace(scale = 1): { x: number; y: number }[] {
  const [l, r, t, b] = [0.131, 0.885, 0.258, 0.975];
  const c = { x: (l + r) / 2, y: (t + b) / 2 };
  return Array.from({ length: 68 }, (_, j) => {
    let p = { x: l + ((r - l) * (j % 10)) / 9, y: t + ((b - t) * Math.floor(j / 10)) / 6 };
    if (j >= 36 && j < 42) p = { x: 0.35, y: 0.4 };
    if (j >= 42 && j < 48) p = { x: 0.65, y: 0.4 };
    return { x: c.x + (p.x - c.x) * scale, y: c.y + (p.y - c.y) * scale };
  });
}
const rotate = (p: { x: number; y: number }, c: { x: number; y: number }, a: number) => ({
  x: c.x + Math.cos(a) * (p.x - c.x) - Math.sin(a) * (p.y - c.y),
  y: c.y + Math.sin(a) * (p.x - c.x) + Math.cos(a) * (p.y - c.y),
});

describe('squareAroundLandmarks', () => {
  const sq = { x: 100, y: 50, side: 200 };
  const face = unitFace().map((p) => ({ x: sq.x + p.x * sq.side, y: sq.y + p.y * sq.side }));

  it('gives back the square in which the landmarks sit where the net expects them', () => {
    const got = squareAroundLandmarks(face);
    expect(got.x).toBeCloseTo(100, 6);
    expect(got.y).toBeCloseTo(50, 6);
    expect(got.side).toBeCloseTo(200, 6);
    expect(got.angle).toBe(0);
  });

  it('does the same for a tilted face, in a square turned by the tilt', () => {
    const centre = { x: 200, y: 150 };
    const angle = (30 * Math.PI) / 180;
    const tilted = face.map((p) => rotate(p, { x: 173, y: 160 }, angle));
    const got = squareAroundLandmarks(tilted, eyeLineAngle(tilted));
    expect(got.angle).toBeCloseTo(angle, 6);
    expect(got.side).toBeCloseTo(200, 6);
    const c = rotate(centre, { x: 173, y: 160 }, angle);
    expect(got.x + got.side / 2).toBeCloseTo(c.x, 6);
    expect(got.y + got.side / 2).toBeCloseTo(c.y, 6);
  });
});

describe('squareTransform', () => {
  it('maps the net input onto the turned square: centre to centre, input right to image down at 90 degrees', () => {
    // 10 image pixels per input pixel; within a pixel (the half-pixel conventions) is enough.
    const t = squareTransform({ x: 0, y: 0, side: 1120, angle: Math.PI / 2 }, LANDMARK_INPUT_SIZE);
    const centre = applyAffine(t, 55.5, 55.5);
    expect(Math.abs(centre.x - 560)).toBeLessThan(1);
    expect(Math.abs(centre.y - 560)).toBeLessThan(1);
    const right = applyAffine(t, 65.5, 55.5);
    expect(Math.abs(right.x - 560)).toBeLessThan(1);
    expect(Math.abs(right.y - 660)).toBeLessThan(1);
  });
});

describe('findLandmarks refinement', () => {
  const image = { width: 400, height: 400, data: new Uint8Array(400 * 400 * 3) };
  const box = { x: 100, y: 100, width: 150, height: 200 };
  /** A stand-in net that always answers `face` (fractions of its input square). */
  const net = (face: { x: number; y: number }[]) => {
    const calls: number[] = [];
    const run: LandmarkNet = async (_batch, count) => {
      calls.push(count);
      const out = new Float32Array(count * 136);
      for (let i = 0; i < count; i++) face.forEach((p, j) => out.set([p.x, p.y], i * 136 + j * 2));
      return out;
    };
    return { run, calls };
  };

  it('takes no extra pass when the landmarks already sit where the net expects them', async () => {
    const { run, calls } = net(unitFace());
    await findLandmarks(run, image, [box], 3);
    expect(calls).toHaveLength(1);
  });

  it('follows a square that grows (a detector box cut by the image edge)', async () => {
    const { run, calls } = net(unitFace(1.2));
    await findLandmarks(run, image, [box], 2);
    expect(calls).toHaveLength(3);
  });

  it('keeps the first landmarks when the refined square would shrink sharply (squashed landmarks)', async () => {
    const { run, calls } = net(unitFace(0.5));
    const [refined] = await findLandmarks(run, image, [box], 2);
    const [first] = await findLandmarks(run, image, [box], 0);
    expect(refined).toEqual(first);
    expect(calls).toHaveLength(2); // one pass each call: no refinement ran
  });

  it('turns the refined square to level tilted eyes', async () => {
    const tilted = unitFace().map((p, j) => (j >= 42 && j < 48 ? { x: p.x, y: p.y + 0.15 } : p));
    const { run } = net(tilted);
    const [refined] = await findLandmarks(run, image, [box], 1);
    // The stand-in answers the same tilt in whatever square it is shown: in a square turned
    // by the tilt, the eyes come out tilted twice as much in the image; in an upright one, once.
    const tilt = eyeLineAngle(tilted);
    expect(eyeLineAngle(refined)).toBeCloseTo(2 * tilt, 6);
  });
});

describe('landmarkSquare', () => {
  it("is centred on the box, its longer side times the descriptor's scale, upright", () => {
    const box = { x: 100, y: 40, width: 80, height: 120 };
    expect(landmarkSquare(box)).toEqual({ x: 80, y: 40, side: 120, angle: 0 });
    const wider = landmarkSquare(box, 1.1);
    expect(wider.side).toBeCloseTo(132, 9);
    expect(wider.x + wider.side / 2).toBeCloseTo(140, 9);
    expect(wider.y + wider.side / 2).toBeCloseTo(100, 9);
  });
});
