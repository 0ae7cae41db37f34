import { resizeRgb, wholeShrinkFactor } from '#functions/core/faces/resize.js';
import { boxShrink } from '#functions/core/faces/warp.js';
import type { RgbImage } from '#functions/core/faces/image.js';

/** A deterministic image whose pixels all differ. */
function pattern(width: number, height: number): RgbImage {
  const data = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 97 + ((i / 7) | 0) * 31) % 256);
  return { data, width, height };
}

/** The k x k block average, rounded, written out the slow, obvious way. */
function blockAverage(image: RgbImage, x0: number, y0: number, w: number, h: number, k: number): number[] {
  const out: number[] = [];
  for (let oy = 0; oy < Math.floor(h / k); oy++)
    for (let ox = 0; ox < Math.floor(w / k); ox++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++)
            sum += image.data[((y0 + oy * k + dy) * image.width + x0 + ox * k + dx) * 3 + c];
        out.push(Math.round(sum / (k * k)));
      }
  return out;
}

describe('boxShrink', () => {
  it.each([2, 3, 4])('averages k x k blocks of a region exactly (k = %i)', (k) => {
    const image = pattern(37, 29);
    const out = boxShrink(image, 3, 5, 30, 21, k);
    expect([out.width, out.height]).toEqual([Math.floor(30 / k), Math.floor(21 / k)]);
    expect(Array.from(out.data)).toEqual(blockAverage(image, 3, 5, 30, 21, k));
  });
});

describe('boxShrink by 2 through 32-bit words (word-aligned rows)', () => {
  it('gives the exact block average for aligned and unaligned rows, odd widths, offset buffers', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (const [width, height, x0, y0, w, h] of [
      [64, 10, 0, 0, 64, 10], // aligned rows, even output width
      [68, 9, 0, 0, 66, 9], // aligned rows, odd output width (33)
      [60, 8, 4, 2, 50, 6], // a region starting on a word boundary
      [61, 8, 1, 1, 40, 6], // rows not word-aligned: the byte-by-byte path
    ]) {
      for (const offset of [0, 1, 4]) {
        // The pixels at `offset` bytes into a larger buffer, as a pooled Buffer may hold them.
        const buffer = new Uint8Array(offset + width * height * 3 + 8);
        for (let i = 0; i < buffer.length; i++) buffer[i] = random();
        const image: RgbImage = { data: buffer.subarray(offset, offset + width * height * 3), width, height };
        const out = boxShrink(image, x0, y0, w, h, 2);
        expect(Array.from(out.data)).toEqual(blockAverage(image, x0, y0, w, h, 2));
      }
    }
  });
});

describe('resizeRgb', () => {
  it('shrinks by a whole factor with the block average (the detector passes of 720p/1080p)', async () => {
    const image = pattern(60, 30);
    for (const k of [2, 3, 5]) {
      const out = await resizeRgb(image, 60 / k, 30 / k);
      expect([out.width, out.height]).toEqual([60 / k, 30 / k]);
      expect(Array.from(out.data)).toEqual(blockAverage(image, 0, 0, 60, 30, k));
    }
  });

  it('halves first for even factors, rounding at each step', async () => {
    const image = pattern(48, 24);
    const asImage = (data: number[], w: number, h: number): RgbImage => ({
      data: Uint8Array.from(data),
      width: w,
      height: h,
    });
    const half = asImage(blockAverage(image, 0, 0, 48, 24, 2), 24, 12);
    const quarter = asImage(blockAverage(half, 0, 0, 24, 12, 2), 12, 6);
    expect(Array.from((await resizeRgb(image, 12, 6)).data)).toEqual(Array.from(quarter.data));
    expect(Array.from((await resizeRgb(image, 8, 4)).data)).toEqual(blockAverage(half, 0, 0, 24, 12, 3));
    // Never more than one level from the exact 4x4 average.
    const exact = blockAverage(image, 0, 0, 48, 24, 4);
    quarter.data.forEach((v, i) => expect(Math.abs(v - exact[i])).toBeLessThanOrEqual(1));
  });

  it('uses libvips for other sizes: enlarging and fractional factors', async () => {
    const image = pattern(48, 24);
    expect(wholeShrinkFactor(image, 20, 10)).toBeUndefined();
    expect(wholeShrinkFactor(image, 96, 48)).toBeUndefined();
    expect(wholeShrinkFactor(image, 24, 8)).toBeUndefined(); // not the same factor both ways
    expect(wholeShrinkFactor(image, 16, 8)).toBe(3);
    for (const [w, h] of [
      [20, 10],
      [96, 48],
    ]) {
      const out = await resizeRgb(image, w, h);
      expect([out.width, out.height, out.data.length]).toEqual([w, h, w * h * 3]);
    }
  });
});
