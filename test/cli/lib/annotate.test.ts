/**
 * Annotated images (issue 20 point 6): labels on a solid background, wholly inside the image,
 * sized with the image, on real photos (faces found by the real engine) at several sizes, and on
 * faces at the edges and corners.
 */
import sharp, { type OutputInfo } from 'sharp';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import type { Box } from '#functions/core/faces/types.js';
import {
  annotate,
  KNOWN_COLOUR,
  LABEL_FONT_FRACTION,
  MIN_FONT_PX,
  placeLabel,
  UNKNOWN_COLOUR,
  type Annotated,
  type FaceMark,
} from '#cli/lib/annotate.js';
import { SAMPLE_IMAGES } from '#test/support/videos.js';

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/** Faces the engine finds in a photo (boxes in the photo's pixels). */
async function realFaces(file: string): Promise<{ bytes: Buffer; width: number; boxes: Box[] }> {
  const bytes = await readFile(file);
  const engine = await createFaceEngine(loadConfig().engine);
  const analysis = await engine.analyzeFaces(bytes);
  return { bytes, width: analysis.width, boxes: analysis.faces.map((f) => f.box) };
}

/** Faces partly outside the picture: at each corner, each edge, and one larger than the image. */
function edgeFaces(w: number, h: number): Box[] {
  const s = Math.min(w, h) / 4;
  return [
    { x: -s / 3, y: -s / 3, width: s, height: s },
    { x: w - s * 0.6, y: -s / 2, width: s, height: s },
    { x: -s / 2, y: h - s * 0.5, width: s, height: s },
    { x: w - s * 0.7, y: h - s * 0.6, width: s, height: s },
    { x: w / 2 - s / 2, y: h - s / 3, width: s, height: s },
    { x: -w * 0.1, y: -h * 0.1, width: w * 1.2, height: h * 1.2 },
  ];
}

/** Mean colour of a rectangle of the decoded image. */
function meanColour(
  raw: { data: Buffer; info: OutputInfo },
  r: { left: number; top: number; width: number; height: number },
) {
  const { data, info } = raw;
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = Math.round(r.top); y < Math.round(r.top + r.height); y++)
    for (let x = Math.round(r.left); x < Math.round(r.left + r.width); x++) {
      const i = (y * info.width + x) * info.channels;
      for (let c = 0; c < 3; c++) sum[c] += data[i + c];
      n++;
    }
  return sum.map((v) => v / Math.max(1, n));
}

type Rect = { left: number; top: number; width: number; height: number };
const overlap = (a: Rect, b: Rect) =>
  a.left < b.left + b.width &&
  b.left < a.left + a.width &&
  a.top < b.top + b.height &&
  b.top < a.top + a.height;

/** Every label inside the image; sized with the image; on its solid colour; with dark text. */
async function checkLabels(out: Annotated, marks: FaceMark[], opts: { noOverlap: boolean }) {
  const raw = await sharp(out.jpeg).raw().toBuffer({ resolveWithObject: true });
  expect([raw.info.width, raw.info.height]).toEqual([out.width, out.height]);
  expect(out.labels).toHaveLength(marks.length);
  const shorter = Math.min(out.width, out.height);
  for (const [i, l] of out.labels.entries()) {
    const r = l.rect;
    expect(r.left).toBeGreaterThanOrEqual(0);
    expect(r.top).toBeGreaterThanOrEqual(0);
    expect(r.left + r.width).toBeLessThanOrEqual(out.width);
    expect(r.top + r.height).toBeLessThanOrEqual(out.height);
    expect(l.fontPx).toBeGreaterThanOrEqual(MIN_FONT_PX);
    expect(l.fontPx).toBeGreaterThanOrEqual(Math.floor(shorter * LABEL_FONT_FRACTION));
    expect(l.background).toBe(marks[i].known === false ? UNKNOWN_COLOUR : KNOWN_COLOUR);
    // Too many faces for a small image: a later label may cover this one (nothing left to see).
    if (out.labels.slice(i + 1).some((b) => overlap(l.rect, b.rect))) continue;
    // The background: the strip between the label's edge and its text is the label's colour
    // (JPEG's error allowed), whatever the photo has there.
    const pad = Math.max(2, Math.round(l.fontPx * 0.25));
    const strip = {
      left: r.left + pad,
      top: r.top + Math.ceil(pad / 2),
      width: r.width - 2 * pad,
      height: 1,
    };
    const mean = meanColour(raw, strip);
    const want = rgb(l.background);
    for (let c = 0; c < 3; c++) expect(Math.abs(mean[c] - want[c])).toBeLessThan(45);
    // The text: dark pixels inside the label.
    const inner = meanColour(raw, {
      left: r.left + 2,
      top: r.top + 2,
      width: r.width - 4,
      height: r.height - 4,
    });
    expect(inner[1]).toBeLessThan(want[1] - 20);
  }
  if (opts.noOverlap) {
    for (const [i, a] of out.labels.entries())
      for (const b of out.labels.slice(i + 1)) expect(overlap(a.rect, b.rect)).toBe(false);
  }
}

describe('annotated images', () => {
  let photo: Awaited<ReturnType<typeof realFaces>>;
  beforeAll(async () => {
    // The demo's group photo: several people side by side.
    photo = await realFaces(SAMPLE_IMAGES[2]);
    expect(photo.boxes.length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  test.each([160, 480, 1280, 3840])(
    'a real photo at %i px wide: every label inside, on its colour, sized with the image',
    async (width) => {
      const scale = width / photo.width;
      const bytes = await sharp(photo.bytes).rotate().resize({ width }).jpeg().toBuffer();
      const marks: FaceMark[] = photo.boxes.map((b, i) => ({
        box: { x: b.x * scale, y: b.y * scale, width: b.width * scale, height: b.height * scale },
        label: i % 2 ? `Unknown 0.7${i}` : `Person_${i} 0.4${i}`,
        known: i % 2 === 0,
      }));
      const out = await annotate(bytes, marks);
      await checkLabels(out, marks, { noOverlap: width >= 480 });
      // Whole names where they fit.
      if (width >= 480) expect(out.labels.map((l) => l.text)).toEqual(marks.map((m) => m.label));
    },
    120_000,
  );

  test.each([
    [120, 90],
    [640, 360],
    [1920, 1080],
    [1080, 1920],
  ])(
    'faces at the edges and corners of a %ix%i frame get their labels inside it',
    async (w, h) => {
      const bytes = await sharp(photo.bytes)
        .rotate()
        .resize({ width: w, height: h, fit: 'fill' })
        .jpeg()
        .toBuffer();
      const marks: FaceMark[] = edgeFaces(w, h).map((box, i) => ({
        box,
        label: `Edge ${i} with a rather long name 0.5${i}`,
        known: i !== 3,
      }));
      const out = await annotate(bytes, marks);
      await checkLabels(out, marks, { noOverlap: w >= 640 });
      // A label wider than the image is shortened, never cut by the edge.
      for (const l of out.labels) expect(l.rect.width).toBeLessThanOrEqual(w);
      if (w < 200) expect(out.labels.some((l) => l.text.endsWith('…'))).toBe(true);
    },
    120_000,
  );

  test('a name cannot forge text: control characters and escape sequences are shown escaped', async () => {
    const bytes = await sharp(photo.bytes).rotate().resize({ width: 640 }).jpeg().toBuffer();
    const out = await annotate(bytes, [
      { box: { x: 100, y: 100, width: 80, height: 80 }, label: 'Eve\n\u001b[31m<b>&</b>', known: true },
    ]);
    expect(out.labels[0].text).toBe('Eve\\n\\x1b[31m<b>&</b>');
  }, 60_000);

  test('placeLabel: above, else below, else inside the top, clear of labels already placed', () => {
    const image = { width: 200, height: 100 };
    const size = { width: 50, height: 20 };
    expect(placeLabel({ x: 10, y: 50, width: 30, height: 30 }, size, image, 2, [])).toMatchObject({
      top: 28,
    });
    expect(placeLabel({ x: 10, y: 5, width: 30, height: 30 }, size, image, 2, [])).toMatchObject({ top: 37 });
    expect(placeLabel({ x: 10, y: 5, width: 30, height: 90 }, size, image, 2, [])).toMatchObject({ top: 7 });
    // Right edge: moved left to fit.
    expect(placeLabel({ x: 190, y: 50, width: 30, height: 30 }, size, image, 2, [])).toMatchObject({
      left: 150,
    });
    // Above is taken, below is out of the image: inside the top of the face.
    const taken = [{ left: 0, top: 28, width: 60, height: 20 }];
    expect(placeLabel({ x: 10, y: 50, width: 30, height: 30 }, size, image, 2, taken)).toMatchObject({
      top: 52,
    });
  });
});
