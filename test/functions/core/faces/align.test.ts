import {
  alignFace,
  arcfaceChipTransform,
  CHIP_SIZE,
  dlibChipTransform,
  similarityTransform,
} from '#functions/core/faces/align.js';
import { applyAffine, squareToRegion, warpAffine } from '#functions/core/faces/warp.js';
import type { Point } from '#functions/core/faces/types.js';

describe('similarityTransform', () => {
  it('recovers a rotation, scale and shift exactly from clean points', () => {
    const from: Point[] = [
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 0, y: 10 },
      { x: 7, y: 3 },
    ];
    const angle = 0.3;
    const scale = 2.5;
    const to = from.map((p) => ({
      x: scale * (Math.cos(angle) * p.x - Math.sin(angle) * p.y) + 40,
      y: scale * (Math.sin(angle) * p.x + Math.cos(angle) * p.y) - 7,
    }));
    const t = similarityTransform(from, to);
    for (let i = 0; i < from.length; i++) {
      const q = applyAffine(t, from[i].x, from[i].y);
      expect(q.x).toBeCloseTo(to[i].x, 9);
      expect(q.y).toBeCloseTo(to[i].y, 9);
    }
  });
});

describe('dlib chip', () => {
  it("maps dlib's 5-point template (padding 0.25) onto the face's eye corners and nose", () => {
    // dlib's template in chip pixels, in the order of its 5-point model, and our 68-point indices.
    const template = [
      [0.8595674595992, 0.2134981538014],
      [0.6460604764104, 0.2289674387677],
      [0.1205750620789, 0.2137274526848],
      [0.3340850613712, 0.2290642403242],
      [0.4901123135679, 0.6277975316475],
    ].map(([x, y]) => ({ x: ((0.25 + x) / 1.5) * CHIP_SIZE, y: ((0.25 + y) / 1.5) * CHIP_SIZE }));
    const indices = [45, 42, 36, 39, 33];
    // A face that is exactly the template, rotated by 0.2 rad, scaled 1.7x and shifted.
    const known = {
      a: 1.7 * Math.cos(0.2),
      b: -1.7 * Math.sin(0.2),
      c: 300,
      d: 1.7 * Math.sin(0.2),
      e: 1.7 * Math.cos(0.2),
      f: 120,
    };
    const lm: Point[] = Array.from({ length: 68 }, () => ({ x: -1e6, y: -1e6 })); // others must be ignored
    template.forEach((p, i) => (lm[indices[i]] = applyAffine(known, p.x, p.y)));
    const t = dlibChipTransform(lm);
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f'] as const) expect(t[k]).toBeCloseTo(known[k], 9);
  });
});

describe('warpAffine', () => {
  it('is the identity for the identity mapping', () => {
    const data = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const image = { data, width: 4, height: 3 };
    const out = warpAffine(image, { a: 1, b: 0, c: 0, d: 0, e: 1, f: 0 }, 4, 3);
    expect(Array.from(out.data)).toEqual(Array.from(data));
  });

  it('samples exactly as the plain bilinear formula does, borders included (black outside)', () => {
    const [w, h] = [41, 33];
    const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 97 + ((i / 5) | 0) * 13) % 256);
    const image = { data, width: w, height: h };
    const at = (x: number, y: number, c: number) =>
      x < 0 || y < 0 || x >= w || y >= h ? 0 : data[(y * w + x) * 3 + c];
    for (const angle of [0, 0.3, -1.1]) {
      // Scale 0.9: the bilinear path (no block average), reaching past the borders.
      const t = {
        a: 0.9 * Math.cos(angle),
        b: -0.9 * Math.sin(angle),
        c: 3.3,
        d: 0.9 * Math.sin(angle),
        e: 0.9 * Math.cos(angle),
        f: -2.6,
      };
      const out = warpAffine(image, t, 30, 30);
      const expected: number[] = [];
      for (let v = 0; v < 30; v++)
        for (let u = 0; u < 30; u++) {
          const { x, y } = applyAffine(t, u, v);
          const [x0, y0] = [Math.floor(x), Math.floor(y)];
          const [fx, fy] = [x - x0, y - y0];
          for (let c = 0; c < 3; c++) {
            const value =
              (1 - fx) * (1 - fy) * at(x0, y0, c) +
              fx * (1 - fy) * at(x0 + 1, y0, c) +
              (1 - fx) * fy * at(x0, y0 + 1, c) +
              fx * fy * at(x0 + 1, y0 + 1, c);
            expected.push(Math.round(value));
          }
        }
      expect(Array.from(out.data)).toEqual(expected);
    }
  });

  it('averages when shrinking (no aliasing of a fine checkerboard)', () => {
    const size = 64;
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        data.fill((x + y) % 2 ? 255 : 0, (y * size + x) * 3, (y * size + x) * 3 + 3);
    const out = warpAffine({ data, width: size, height: size }, squareToRegion(0, 0, size, 16), 16, 16);
    const values = Array.from(out.data);
    expect(Math.min(...values)).toBeGreaterThan(90);
    expect(Math.max(...values)).toBeLessThan(165);
  });

  it('alignFace gives a 150x150 RGB chip', () => {
    const image = { data: new Uint8Array(300 * 300 * 3).fill(128), width: 300, height: 300 };
    const lm: Point[] = Array.from({ length: 68 }, (_, i) => ({
      x: 100 + (i % 10) * 10,
      y: 100 + Math.floor(i / 10) * 12,
    }));
    for (const method of ['dlib-chip', 'landmark-box'] as const) {
      const chip = alignFace(image, lm, method);
      expect(chip.width).toBe(150);
      expect(chip.data.length).toBe(150 * 150 * 3);
    }
  });
});

describe('ArcFace chip', () => {
  // InsightFace's 112x112 template: eye centres, nose tip, mouth corners.
  const template: Point[] = [
    { x: 38.2946, y: 51.6963 },
    { x: 73.5318, y: 51.5014 },
    { x: 56.0252, y: 71.7366 },
    { x: 41.5493, y: 92.3655 },
    { x: 70.7299, y: 92.2041 },
  ];
  /** 68 landmarks whose ArcFace 5 points are `five` (eyelids, nose tip, lip corners). */
  const landmarksWith = (five: Point[]): Point[] => {
    const l: Point[] = Array.from({ length: 68 }, () => ({ x: 0, y: 0 }));
    for (const i of [37, 38, 40, 41]) l[i] = five[0];
    for (const i of [43, 44, 46, 47]) l[i] = five[1];
    l[30] = five[2];
    for (const i of [48, 60]) l[i] = five[3];
    for (const i of [54, 64]) l[i] = five[4];
    return l;
  };
  const moved = (scale: number, dx: number, dy: number) => (p: Point) => ({
    x: p.x * scale + dx,
    y: p.y * scale + dy,
  });
  const scaleOf = (t: { a: number; d: number }) => Math.hypot(t.a, t.d);

  it('maps the template onto a face whose 5 points are the template, scaled and shifted', () => {
    const face = template.map(moved(3, 100, 50));
    const t = arcfaceChipTransform(landmarksWith(face));
    expect(scaleOf(t)).toBeCloseTo(3, 6);
    for (let i = 0; i < 5; i++) {
      const q = applyAffine(t, template[i].x, template[i].y);
      expect(q.x).toBeCloseTo(face[i].x, 6);
      expect(q.y).toBeCloseTo(face[i].y, 6);
    }
  });

  it('takes its scale from the longer span: a mouth placed too close to the eyes does not zoom the chip in', () => {
    const face = template.map(moved(3, 100, 50));
    // Mouth (and nose) pulled halfway towards the eyes, as on a bowed head or squashed landmarks.
    const eyeY = (face[0].y + face[1].y) / 2;
    const squashed = face.map((p, i) => (i < 2 ? p : { x: p.x, y: eyeY + (p.y - eyeY) / 2 }));
    const t = arcfaceChipTransform(landmarksWith(squashed));
    expect(scaleOf(t)).toBeCloseTo(3, 6);
    // The eye midpoint stays where the template's goes.
    const q = applyAffine(t, (template[0].x + template[1].x) / 2, (template[0].y + template[1].y) / 2);
    expect(q.x).toBeCloseTo((face[0].x + face[1].x) / 2, 6);
    expect(q.y).toBeCloseTo(eyeY, 6);
  });

  it('and eyes drawn together (a turned head) do not either', () => {
    const face = template.map(moved(2, 10, 20));
    const cx = (face[0].x + face[1].x) / 2;
    const turned = face.map((p) => ({ x: cx + (p.x - cx) * 0.4, y: p.y }));
    expect(scaleOf(arcfaceChipTransform(landmarksWith(turned)))).toBeCloseTo(2, 2);
  });
});
