/**
 * Affine resampling of RGB pixels, used to cut the landmark crop and the aligned face chip.
 * Pixel centres sit at integer coordinates (dlib's convention). When the mapping shrinks the
 * source, each output pixel averages k x k bilinear samples so that large faces are not aliased.
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

export function warpAffine(image: RgbImage, t: Affine, width: number, height: number): RgbImage {
  const { data: src, width: sw, height: sh } = image;
  const out = new Uint8Array(width * height * 3);
  const sourcePerOutput = Math.sqrt(Math.abs(t.a * t.e - t.b * t.d));
  const k = Math.max(1, Math.min(8, Math.ceil(sourcePerOutput - 0.25)));
  const offsets = Array.from({ length: k }, (_, i) => (i + 0.5) / k - 0.5);
  const acc = [0, 0, 0];
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (const dv of offsets) {
        for (const du of offsets) {
          const x = t.a * (u + du) + t.b * (v + dv) + t.c;
          const y = t.d * (u + du) + t.e * (v + dv) + t.f;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const fx = x - x0;
          const fy = y - y0;
          // Outside the source reads as black, as dlib and face-api pad.
          for (let dy = 0; dy <= 1; dy++) {
            const yy = y0 + dy;
            if (yy < 0 || yy >= sh) continue;
            const wy = dy ? fy : 1 - fy;
            for (let dx = 0; dx <= 1; dx++) {
              const xx = x0 + dx;
              if (xx < 0 || xx >= sw) continue;
              const w = wy * (dx ? fx : 1 - fx);
              if (w === 0) continue;
              const p = (yy * sw + xx) * 3;
              acc[0] += w * src[p];
              acc[1] += w * src[p + 1];
              acc[2] += w * src[p + 2];
            }
          }
        }
      }
      const o = (v * width + u) * 3;
      const n = k * k;
      out[o] = Math.round(acc[0] / n);
      out[o + 1] = Math.round(acc[1] / n);
      out[o + 2] = Math.round(acc[2] / n);
    }
  }
  return { data: out, width, height };
}

/** The affine that maps an output square of `size` pixels onto the source square `region`. */
export function squareToRegion(x: number, y: number, side: number, size: number): Affine {
  const s = side / size;
  // Output pixel centre u maps to x + (u + 0.5) * s - 0.5 in source pixel-centre coordinates.
  return { a: s, b: 0, c: x + 0.5 * s - 0.5, d: 0, e: s, f: y + 0.5 * s - 0.5 };
}
