/**
 * Affine resampling of RGB pixels, used to cut the landmark crop and the aligned face chip.
 * Pixel centres sit at integer coordinates (dlib's convention). When the mapping shrinks the
 * source by k or more, the footprint is first box-filtered by k (area averaging, as dlib's
 * pyramid does) so that large faces are not aliased; then each output pixel is one bilinear
 * sample.
 */
import type { RgbImage } from './image.js';

/** Maps output pixel (u, v) to source point (a*u + b*v + c, d*u + e*v + f). */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export function applyAffine(t: Affine, u: number, v: number): { x: number; y: number } {
  return { x: t.a * u + t.b * v + t.c, y: t.d * u + t.e * v + t.f };
}

/** Average k x k blocks of `region` (x0, y0, w, h, in source pixels) into a smaller image. */
export function boxShrink(
  image: RgbImage,
  x0: number,
  y0: number,
  w: number,
  h: number,
  k: number,
): RgbImage {
  const { data: src, width: sw } = image;
  const ow = Math.floor(w / k);
  const oh = Math.floor(h / k);
  const out = new Uint8Array(ow * oh * 3);
  if (k === 2) {
    halve(src, (y0 * sw + x0) * 3, sw * 3, out, ow, oh);
    return { data: out, width: ow, height: oh };
  }
  // Integer sums: exact, and far from overflow (255 k^2).
  const acc = new Int32Array(ow * 3);
  const inv = 1 / (k * k);
  const rowLength = ow * 3;
  for (let oy = 0; oy < oh; oy++) {
    acc.fill(0);
    for (let dy = 0; dy < k; dy++) {
      let p = ((y0 + oy * k + dy) * sw + x0) * 3;
      for (let o = 0; o < rowLength; o += 3) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let dx = 0; dx < k; dx++, p += 3) {
          r += src[p];
          g += src[p + 1];
          b += src[p + 2];
        }
        acc[o] += r;
        acc[o + 1] += g;
        acc[o + 2] += b;
      }
    }
    const row = oy * rowLength;
    // (x + 0.5) | 0 is Math.round for these non-negative values, without the call.
    for (let i = 0; i < rowLength; i++) out[row + i] = (acc[i] * inv + 0.5) | 0;
  }
  return { data: out, width: ow, height: oh };
}

/** boxShrink for k = 2 (the detector's inputs from 720p and 360p), unrolled: 2.5x faster. */
function halve(
  src: Uint8Array,
  start: number,
  stride: number,
  out: Uint8Array,
  ow: number,
  oh: number,
): void {
  // Rows that start on 4-byte boundaries (1280, 1920, 640, 960 px wide...) go 4 source pixels at
  // a time through 32-bit words: 1.8x faster again, the same bytes (test/functions/core/faces/resize.test.ts).
  if ((src.byteOffset + start) % 4 === 0 && stride % 4 === 0)
    return halveWords(src, start, stride, out, [ow, oh]);
  let o = 0;
  for (let oy = 0; oy < oh; oy++) {
    let p = start + 2 * oy * stride;
    for (let ox = 0; ox < ow; ox++, p += 6, o += 3) {
      const q = p + stride;
      // The sum of four bytes, + 2, shifted right by 2: Math.round(sum / 4).
      out[o] = (src[p] + src[p + 3] + src[q] + src[q + 3] + 2) >> 2;
      out[o + 1] = (src[p + 1] + src[p + 4] + src[q + 1] + src[q + 4] + 2) >> 2;
      out[o + 2] = (src[p + 2] + src[p + 5] + src[q + 2] + src[q + 5] + 2) >> 2;
    }
  }
}

const BYTES_0_2 = 0x00ff00ff;

/**
 * halve on 32-bit words (little-endian): 4 source pixels of a row are 3 words, `r0 g0 b0 r1 | g1
 * b1 r2 g2 | b2 r3 g3 b3`. Masking bytes 0 and 2 (and, shifted, 1 and 3) of a word gives two
 * 16-bit lanes, so one addition sums two bytes of the two rows at once (at most 510 per lane);
 * each output byte then adds the two lanes of its horizontal pair. Needs word-aligned rows.
 */
function halveWords(
  src: Uint8Array,
  start: number,
  stride: number,
  out: Uint8Array,
  [ow, oh]: number[],
): void {
  const words = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >> 2);
  const below = stride >> 2;
  let o = 0;
  for (let oy = 0; oy < oh; oy++) {
    const rowStart = start + 2 * oy * stride;
    let w = rowStart >> 2;
    let ox = 0;
    for (; ox + 1 < ow; ox += 2, w += 3, o += 6) {
      // Plain locals (an array destructuring here allocated per pixel pair: GC and 2x the time).
      const a0 = words[w];
      const a1 = words[w + 1];
      const a2 = words[w + 2];
      const b0 = words[w + below];
      const b1 = words[w + below + 1];
      const b2 = words[w + below + 2];
      const lo0 = (a0 & BYTES_0_2) + (b0 & BYTES_0_2); // r0 | b0
      const hi0 = ((a0 >>> 8) & BYTES_0_2) + ((b0 >>> 8) & BYTES_0_2); // g0 | r1
      const lo1 = (a1 & BYTES_0_2) + (b1 & BYTES_0_2); // g1 | r2
      const hi1 = ((a1 >>> 8) & BYTES_0_2) + ((b1 >>> 8) & BYTES_0_2); // b1 | g2
      const lo2 = (a2 & BYTES_0_2) + (b2 & BYTES_0_2); // b2 | g3
      const hi2 = ((a2 >>> 8) & BYTES_0_2) + ((b2 >>> 8) & BYTES_0_2); // r3 | b3
      out[o] = ((lo0 & 0xffff) + (hi0 >>> 16) + 2) >> 2;
      out[o + 1] = ((hi0 & 0xffff) + (lo1 & 0xffff) + 2) >> 2;
      out[o + 2] = ((lo0 >>> 16) + (hi1 & 0xffff) + 2) >> 2;
      out[o + 3] = ((lo1 >>> 16) + (hi2 & 0xffff) + 2) >> 2;
      out[o + 4] = ((hi1 >>> 16) + (lo2 >>> 16) + 2) >> 2;
      out[o + 5] = ((lo2 & 0xffff) + (hi2 >>> 16) + 2) >> 2;
    }
    if (ox < ow) {
      // An odd last output pixel: byte by byte.
      const p = rowStart + ox * 6;
      const q = p + stride;
      for (let c = 0; c < 3; c++, o++)
        out[o] = (src[p + c] + src[p + 3 + c] + src[q + c] + src[q + 3 + c] + 2) >> 2;
    }
  }
}

function bilinear(image: RgbImage, t: Affine, width: number, height: number): RgbImage {
  const { data: src, width: sw, height: sh } = image;
  const out = new Uint8Array(width * height * 3);
  const rowStride = sw * 3;
  const { a, b, c, d, e, f } = t;
  let o = 0;
  for (let v = 0; v < height; v++) {
    const bv = b * v;
    const ev = e * v;
    for (let u = 0; u < width; u++, o += 3) {
      // Added in the order applyAffine adds them, so that results are bit-identical to it.
      const x = a * u + bv + c;
      const y = d * u + ev + f;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh) {
        // All four taps inside: the common case, without per-tap checks.
        const p = y0 * rowStride + x0 * 3;
        const q = p + rowStride;
        const w00 = (1 - fx) * (1 - fy);
        const w01 = fx * (1 - fy);
        const w10 = (1 - fx) * fy;
        const w11 = fx * fy;
        // (x + 0.5) | 0 is Math.round for these non-negative values, without the call.
        out[o] = (w00 * src[p] + w01 * src[p + 3] + w10 * src[q] + w11 * src[q + 3] + 0.5) | 0;
        out[o + 1] = (w00 * src[p + 1] + w01 * src[p + 4] + w10 * src[q + 1] + w11 * src[q + 4] + 0.5) | 0;
        out[o + 2] = (w00 * src[p + 2] + w01 * src[p + 5] + w10 * src[q + 2] + w11 * src[q + 5] + 0.5) | 0;
        continue;
      }
      // At or beyond the border: outside reads as black, as dlib and face-api pad.
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let dy = 0; dy <= 1; dy++) {
        const yy = y0 + dy;
        if (yy < 0 || yy >= sh) continue;
        const wy = dy ? fy : 1 - fy;
        for (let dx = 0; dx <= 1; dx++) {
          const xx = x0 + dx;
          if (xx < 0 || xx >= sw) continue;
          const w = wy * (dx ? fx : 1 - fx);
          const p = yy * rowStride + xx * 3;
          r += w * src[p];
          g += w * src[p + 1];
          bl += w * src[p + 2];
        }
      }
      out[o] = Math.round(r);
      out[o + 1] = Math.round(g);
      out[o + 2] = Math.round(bl);
    }
  }
  return { data: out, width, height };
}

export function warpAffine(image: RgbImage, t: Affine, width: number, height: number): RgbImage {
  const sourcePerOutput = Math.sqrt(Math.abs(t.a * t.e - t.b * t.d));
  const k = Math.min(8, Math.floor(sourcePerOutput + 0.25));
  if (k < 2) return bilinear(image, t, width, height);
  // The source footprint of the output, padded by one block, clamped to the image and aligned
  // so that blocks stay whole.
  const corners = [
    applyAffine(t, -1, -1),
    applyAffine(t, width, -1),
    applyAffine(t, -1, height),
    applyAffine(t, width, height),
  ];
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x))) - k);
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y))) - k);
  const x1 = Math.min(image.width, Math.ceil(Math.max(...corners.map((p) => p.x))) + k);
  const y1 = Math.min(image.height, Math.ceil(Math.max(...corners.map((p) => p.y))) + k);
  if (x1 - x0 < k || y1 - y0 < k) return bilinear(image, t, width, height);
  const small = boxShrink(image, x0, y0, x1 - x0, y1 - y0, k);
  // Block i covers source x0 + i*k .. x0 + i*k + k - 1, centred at x0 + i*k + (k - 1) / 2.
  const shift = (k - 1) / 2;
  return bilinear(
    small,
    {
      a: t.a / k,
      b: t.b / k,
      c: (t.c - x0 - shift) / k,
      d: t.d / k,
      e: t.e / k,
      f: (t.f - y0 - shift) / k,
    },
    width,
    height,
  );
}

/** The affine that maps an output square of `size` pixels onto the source square `region`. */
export function squareToRegion(x: number, y: number, side: number, size: number): Affine {
  const s = side / size;
  // Output pixel centre u maps to x + (u + 0.5) * s - 0.5 in source pixel-centre coordinates.
  return { a: s, b: 0, c: x + 0.5 * s - 0.5, d: 0, e: s, f: y + 0.5 * s - 0.5 };
}
