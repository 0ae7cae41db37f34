/**
 * An 8-bit copy of a large template matrix, for the gallery search's coarse pass
 * (quantized-search.ts): one scale per row, the codes transposed (the coarse model's B), and per
 * row the norm of what the rounding lost, which bounds the coarse pass's error. Pure: no
 * onnxruntime here, so the binary store (gallery/store.ts) can write and read it.
 */

/** Template values are rounded to -127..127 times the row's scale. */
export const TEMPLATE_LEVELS = 127;

/** Matrices from this many rows up are searched coarse-then-exact (and a store carries their
 * 8-bit copy). Below it one float32 pass costs <= ~5 ms on the benchmark machine (100,000 rows:
 * ~10 ms), and the copy's one-off cost (onnxruntime packs it: ~1 ms per 1,000 rows) would not
 * pay back at a cold start. */
export const COARSE_MIN_ROWS = 50_000;

export interface QuantizedRows {
  rows: number;
  size: number;
  /** Per row: the scale (value ~ scale x code; float32 values, so a store keeps them exactly). */
  scale: Float32Array;
  /** Per row: |t - scale x code|, rounded up to float32. */
  error: Float32Array;
  /** codes[j * rows + r] is row r's value j, int8: the matrix transposed ([size, rows]), as the
   * coarse model takes it. */
  codes: Int8Array;
}

/** float32 at or above x (x >= 0): a stored error may only err on the safe side. */
function float32Up(x: number): number {
  const f = Math.fround(x);
  return f >= x ? f : Math.fround(f * (1 + 2 ** -23));
}

/** Each row's int8 codes with its own scale (max |value| -> 127), and what the rounding lost. */
export function quantizeRows(data: Float32Array, rows: number, size: number): QuantizedRows {
  const codes = new Int8Array(rows * size);
  const scale = new Float32Array(rows);
  const error = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * size;
    let max = 0;
    for (let j = o; j < o + size; j++) {
      const v = data[j];
      if (v > max) max = v;
      else if (-v > max) max = -v;
    }
    const s = max > 0 ? Math.fround(max / TEMPLATE_LEVELS) : 1;
    const inv = 1 / s;
    let e2 = 0;
    // Round to nearest: |v / s| <= ~127, so v / s + 128.5 > 0 and truncation is the floor;
    // clamped in case the float32 scale rounded below max / 127.
    for (let j = 0, at = r; j < size; j++, at += rows) {
      const v = data[o + j];
      let c = ((v * inv + 128.5) | 0) - 128;
      if (c > TEMPLATE_LEVELS) c = TEMPLATE_LEVELS;
      else if (c < -TEMPLATE_LEVELS) c = -TEMPLATE_LEVELS;
      codes[at] = c;
      const e = v - s * c;
      e2 += e * e;
    }
    scale[r] = s;
    error[r] = float32Up(Math.sqrt(e2));
  }
  return { rows, size, scale, error, codes };
}

const known = new WeakMap<Float32Array, QuantizedRows>();

/** Records the 8-bit copy of `data` (a store read from disk carries it: no pass at load). */
export function rememberQuantizedRows(data: Float32Array, q: QuantizedRows): void {
  known.set(data, q);
}

/** The 8-bit copy of `rows` x `size` values of `data`: the one remembered, or made now. */
export function quantizedRowsOf(data: Float32Array, rows: number, size: number): QuantizedRows {
  const q = known.get(data);
  if (q && q.rows === rows && q.size === size) return q;
  return quantizeRows(data, rows, size);
}
