/**
 * Draws faces (box, landmarks, name) over an image, for people checking what the engine saw
 * (`facerec identify --annotate`, the console's frames, the report).
 *
 * Labels are readable at any size and never leave the image:
 * - the text size follows the image (LABEL_FONT_FRACTION of its shorter side, at least
 *   MIN_FONT_PX), so a label keeps its share of the picture when it is shown scaled down;
 * - each label sits on a solid background in the face's colour (green: a known person, orange:
 *   Unknown) with dark text and a dark edge, never over hair or a busy background;
 * - it goes above the face, else below it, else inside its top edge, the first place that is
 *   wholly inside the image and clear of the labels already placed (faces at an edge or a corner
 *   get theirs inside the picture); a label wider than the image is shortened with an ellipsis.
 * Text is rendered by sharp (Pango, the system's sans-serif font), which measures it exactly;
 * names are printed through printable() and escaped for Pango's markup.
 */
import sharp, { type OverlayOptions } from 'sharp';
import type { Box, Point } from '../../functions/core/faces/types.js';
import { printable } from '../../functions/core/printable.js';

export interface FaceMark {
  box: Box;
  label: string;
  landmarks?: Point[];
  known?: boolean;
}

/** Where a label went (what tests and callers can check). */
interface PlacedLabel {
  text: string;
  rect: { left: number; top: number; width: number; height: number };
  fontPx: number;
  background: string;
}

export const MIN_FONT_PX = 12;
/** Label text height as a share of the image's shorter side (1080p: 27 px). */
export const LABEL_FONT_FRACTION = 1 / 40;
export const KNOWN_COLOUR = '#00e676';
export const UNKNOWN_COLOUR = '#ff9800';
const TEXT_COLOUR = '#000000';
const EDGE_COLOUR = '#000000';

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Text as an RGBA image of `fontPx` pixels (Pango markup: the text is escaped). */
async function renderText(
  text: string,
  fontPx: number,
): Promise<{ png: Buffer; width: number; height: number }> {
  const { data, info } = await sharp({
    text: {
      text: `<span foreground="${TEXT_COLOUR}">${escapeXml(text)}</span>`,
      font: `sans bold ${fontPx}`,
      dpi: 72,
      rgba: true,
    },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height };
}

/** The text rendered no wider than `maxWidth`: shortened with an ellipsis when it must be. */
async function fittedText(text: string, fontPx: number, maxWidth: number) {
  let rendered = await renderText(text, fontPx);
  if (rendered.width <= maxWidth) return { text, ...rendered };
  const chars = [...text];
  let keep = Math.max(0, Math.floor((chars.length * maxWidth) / rendered.width) - 1);
  for (; keep >= 0; keep--) {
    const shorter = `${chars.slice(0, keep).join('')}…`;
    rendered = await renderText(shorter, fontPx);
    if (rendered.width <= maxWidth) return { text: shorter, ...rendered };
  }
  return { text: '…', ...(await renderText('…', fontPx)) };
}

type Rect = PlacedLabel['rect'];
const overlaps = (a: Rect, b: Rect) =>
  a.left < b.left + b.width &&
  b.left < a.left + a.width &&
  a.top < b.top + b.height &&
  b.top < a.top + a.height;

/** Above the face, below it, inside its top edge: the first place inside the image and clear of
 * `taken`; else the place next to a taken label (above or below it) nearest the face; else the
 * first inside the image. */
export function placeLabel(
  box: Box,
  size: { width: number; height: number },
  image: { width: number; height: number },
  gap: number,
  taken: readonly Rect[],
): Rect {
  const left = Math.round(Math.min(Math.max(0, box.x), Math.max(0, image.width - size.width)));
  const at = (top: number): Rect => ({ left, top: Math.round(top), ...size });
  const inside = (r: Rect) => r.top >= 0 && r.top + r.height <= image.height;
  const clear = (r: Rect) => inside(r) && !taken.some((t) => overlaps(r, t));
  const preferred = [box.y - size.height - gap, box.y + box.height + gap, box.y + gap].map(at);
  const found = preferred.find(clear);
  if (found) return found;
  const beside = taken
    .flatMap((t) => [t.top + t.height + 1, t.top - size.height - 1])
    .map(at)
    .filter(clear)
    .sort((a, b) => Math.abs(a.top - box.y) - Math.abs(b.top - box.y));
  if (beside[0]) return beside[0];
  const fallback = preferred.find(inside) ?? preferred[2];
  return { ...fallback, top: Math.min(Math.max(0, fallback.top), Math.max(0, image.height - size.height)) };
}

export interface Annotated {
  jpeg: Buffer;
  labels: PlacedLabel[];
  width: number;
  height: number;
}

/** The image (EXIF orientation applied) with the faces drawn, and where each label went. */
export async function annotate(bytes: Uint8Array, marks: FaceMark[]): Promise<Annotated> {
  const meta = await sharp(bytes).metadata();
  // EXIF orientations 5-8 swap width and height; the drawing is over the oriented image.
  const swap = (meta.orientation ?? 1) >= 5;
  const width = (swap ? meta.height : meta.width) ?? 0;
  const height = (swap ? meta.width : meta.height) ?? 0;
  const shorter = Math.min(width, height);
  const stroke = Math.max(2, Math.round(shorter / 300));
  const fontPx = Math.max(MIN_FONT_PX, Math.round(shorter * LABEL_FONT_FRACTION));
  const pad = Math.max(2, Math.round(fontPx * 0.25));
  const edge = Math.max(1, Math.round(stroke / 2));

  const shapes: string[] = [];
  const labels: PlacedLabel[] = [];
  const overlays: OverlayOptions[] = [];
  for (const m of marks) {
    const colour = m.known === false ? UNKNOWN_COLOUR : KNOWN_COLOUR;
    const { x, y, width: w, height: h } = m.box;
    shapes.push(
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
    );
    for (const p of m.landmarks ?? [])
      shapes.push(`<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="${stroke}" fill="#2196f3"/>`);
  }
  // Labels after every box, so that no box is drawn over a label.
  for (const m of marks) {
    const colour = m.known === false ? UNKNOWN_COLOUR : KNOWN_COLOUR;
    const text = await fittedText(printable(m.label), fontPx, Math.max(1, width - 2 * pad));
    if (text.height > height) continue; // an image a few pixels tall: no room for any label
    // One height for every label (Pango's image is as tall as the glyphs drawn).
    const lineHeight = Math.max(text.height, Math.round(fontPx * 1.3));
    const size = {
      width: Math.min(width, text.width + 2 * pad),
      height: Math.min(height, lineHeight + 2 * pad),
    };
    const rect = placeLabel(
      m.box,
      size,
      { width, height },
      stroke,
      labels.map((l) => l.rect),
    );
    labels.push({ text: text.text, rect, fontPx, background: colour });
    // Each label is drawn whole (background, edge, text) over the ones before it.
    const plate =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${rect.width}" height="${rect.height}">` +
      `<rect x="${edge / 2}" y="${edge / 2}" width="${Math.max(0, rect.width - edge)}" height="${Math.max(0, rect.height - edge)}" fill="${colour}" stroke="${EDGE_COLOUR}" stroke-width="${edge}"/></svg>`;
    overlays.push(
      { input: Buffer.from(plate), left: rect.left, top: rect.top },
      {
        input: text.png,
        left: rect.left + Math.max(0, Math.floor((rect.width - text.width) / 2)),
        top: rect.top + Math.max(0, Math.floor((rect.height - text.height) / 2)),
      },
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  const jpeg = await sharp(bytes)
    .rotate()
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }, ...overlays])
    .jpeg({ quality: 85 })
    .toBuffer();
  return { jpeg, labels, width, height };
}

/** The image with the faces drawn, as JPEG. */
export async function annotateImage(bytes: Uint8Array, marks: FaceMark[]): Promise<Buffer> {
  return (await annotate(bytes, marks)).jpeg;
}
