/** Draws faces (box, landmarks, name) over an image, for people checking what the engine saw. */
import sharp from 'sharp';
import type { Box, Point } from '../../functions/core/faces/types.js';

export interface FaceMark {
  box: Box;
  label: string;
  landmarks?: Point[];
  known?: boolean;
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export async function annotateImage(bytes: Uint8Array, marks: FaceMark[]): Promise<Buffer> {
  const base = sharp(bytes).rotate();
  const meta = await sharp(bytes).metadata();
  // EXIF orientations 5-8 swap width and height; the drawing is over the oriented image.
  const swap = (meta.orientation ?? 1) >= 5;
  const width = (swap ? meta.height : meta.width) ?? 0;
  const height = (swap ? meta.width : meta.height) ?? 0;
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 300));
  const font = Math.max(12, stroke * 7);
  const shapes = marks.map((m) => {
    const colour = m.known === false ? '#ff9800' : '#00e676';
    const { x, y, width: w, height: h } = m.box;
    const dots = (m.landmarks ?? [])
      .map((p) => `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="${stroke}" fill="#2196f3"/>`)
      .join('');
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      dots +
      `<text x="${x}" y="${Math.max(font, y - stroke * 2)}" font-family="sans-serif" font-size="${font}" fill="${colour}" stroke="#000" stroke-width="${stroke / 3}">${escapeXml(m.label)}</text>`
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  return base
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality: 85 })
    .toBuffer();
}
