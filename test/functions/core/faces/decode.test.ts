import sharp, { type Sharp } from 'sharp';
import { decodeImage } from '#functions/core/faces/decode.js';

/** A small picture with colour, gradients and edges. */
async function picture(): Promise<Sharp> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="64">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#c33"/><stop offset="1" stop-color="#36c"/></linearGradient></defs>
    <rect width="96" height="64" fill="url(#g)"/><circle cx="30" cy="30" r="18" fill="#ee4"/></svg>`;
  return sharp(await sharp(Buffer.from(svg)).png().toBuffer());
}

/** Every conversion step, applied unconditionally: what decodeImage must be equal to. */
async function reference(bytes: Buffer): Promise<{ data: number[]; width: number; height: number }> {
  const { data, info } = await sharp(bytes)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: Array.from(data), width: info.width, height: info.height };
}

describe('decodeImage', () => {
  const cases: [string, (p: Sharp) => Sharp][] = [
    ['a plain sRGB JPEG (the video frame case)', (p) => p.jpeg()],
    ['a PNG with alpha', (p) => p.ensureAlpha(0.5).png()],
    ['a greyscale JPEG', (p) => p.greyscale().jpeg()],
    ['a CMYK JPEG', (p) => p.toColourspace('cmyk').jpeg()],
    ['a JPEG with a Display P3 profile', (p) => p.withIccProfile('p3').jpeg()],
    ['a JPEG with EXIF orientation 6', (p) => p.withMetadata({ orientation: 6 }).jpeg()],
    ['a WebP', (p) => p.webp()],
  ];
  it.each(cases)('gives 8-bit sRGB, oriented, for %s', async (_, encode) => {
    const bytes = await encode(await picture()).toBuffer();
    const decoded = await decodeImage(bytes);
    const expected = await reference(bytes);
    expect([decoded.image.width, decoded.image.height]).toEqual([expected.width, expected.height]);
    expect(decoded.image.data.length).toBe(expected.width * expected.height * 3);
    expect(Array.from(decoded.image.data)).toEqual(expected.data);
  });
});
