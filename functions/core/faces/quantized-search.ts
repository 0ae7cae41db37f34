/**
 * Nearest-row search over a large template matrix in two passes, with the same answer as the
 * exact search:
 *
 * 1. Coarse: an 8-bit copy of the templates (one scale per row) is the constant initializer of a
 *    one-node ONNX model (MatMulInteger), so onnxruntime packs it once, when the session is
 *    created, and each search reads 51 MB for 100,000 x 512 templates instead of the float32
 *    matrix's 205 MB. Its integer products are exact (see QUERY_LEVELS).
 * 2. Exact: every row that the coarse scores cannot rule out is re-scored in double precision
 *    from the float32 templates, and the nearest of those is the answer.
 *
 * Why no row is wrongly ruled out: with q the query, t a template, q' and t' their quantized
 * values (scale x integer), e_q = q - q' and e_t = t - t',
 *     q.t - q'.t' = e_q.t + q'.e_t,   so   |q.t - q'.t'| <= |e_q| |t| + |q'| |e_t|   (Cauchy-Schwarz)
 * and |e_t|, |t| are computed per row when the copy is made, |e_q|, |q'| per query. The squared
 * distance |t|^2 - 2 q.t (+ |q|^2, the same for all rows) is therefore within 2 b_r of the coarse
 * |t|^2 - 2 q'.t', with b_r that bound. The smallest coarse value plus its bound is an upper
 * bound U on the true nearest; a row whose coarse value minus its bound exceeds U cannot be the
 * nearest; all others are re-scored exactly. The bound is not a heuristic margin: the decision
 * (nearest row, its distance, hence the open-set threshold decision) is the exact search's.
 */
import ort from 'onnxruntime-node';
import { ONNX_TYPE, initializer, onnxModel, tensorInfo } from './onnx-writer.js';
import { initOnnxRuntimeOnLargeStack } from './onnxruntime-init.js';
import { quantizedRowsOf, type QuantizedRows } from './quantized-rows.js';

/**
 * Query values are quantized to +-63 (7 bits, as uint8 around 64), templates to +-127 (int8):
 * x86 kernels without VNNI multiply uint8 x int8 pairs and add two of them into int16
 * (vpmaddubsw), which saturates above 32,767; 2 x 127 x 127 = 32,258 stays below it, so the
 * integer products are exact on every CPU onnxruntime runs on (with VNNI they are in any case).
 */
const QUERY_LEVELS = 63;
const QUERY_ZERO = 64;

/** The coarse model: y[b, n] = (a - 64) x codes, int32 (exact), codes a constant [size, rows]. */
function coarseModel(q: QuantizedRows): Uint8Array {
  const { codes } = q;
  return onnxModel({
    name: 'gallery-coarse-search',
    nodes: [{ op: 'MatMulInteger', inputs: ['a', 'codes', 'a_zero', 'codes_zero'], outputs: ['y'] }],
    initializers: [
      initializer('a_zero', ONNX_TYPE.uint8, [], Uint8Array.of(QUERY_ZERO)),
      initializer('codes_zero', ONNX_TYPE.int8, [], Uint8Array.of(0)),
      initializer(
        'codes',
        ONNX_TYPE.int8,
        [q.size, q.rows],
        new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength),
      ),
    ],
    inputs: [tensorInfo('a', ONNX_TYPE.uint8, ['b', q.size])],
    outputs: [tensorInfo('y', ONNX_TYPE.int32, ['b', q.rows])],
    opsets: { '': 13 },
  });
}

interface CoarseIndex {
  session: ort.InferenceSession;
  scale: Float32Array;
  error: Float32Array;
}

const indexes = new WeakMap<Float32Array, Map<string, Promise<CoarseIndex>>>();

/** The coarse index of a matrix (built once per matrix and thread setting, then cached: a
 * warm container searches the same gallery again). */
function coarseIndexOf(
  data: Float32Array,
  rows: number,
  size: number,
  threads: number,
): Promise<CoarseIndex> {
  let byKey = indexes.get(data);
  if (!byKey) indexes.set(data, (byKey = new Map()));
  const key = `${rows}x${size}/${threads}`;
  let p = byKey.get(key);
  if (!p) {
    p = initOnnxRuntimeOnLargeStack().then(async () => {
      const q = quantizedRowsOf(data, rows, size);
      const session = await ort.InferenceSession.create(coarseModel(q), {
        ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      // The codes live on packed inside the session; only the bound's terms are kept here.
      return { session, scale: q.scale, error: q.error };
    });
    byKey.set(key, p);
    p.catch(() => byKey.delete(key));
  }
  return p;
}

/** One query as the coarse pass's uint8 input, with its scale, |q'| and |q - q'|. */
function quantizeQuery(
  query: Float32Array,
  out: Uint8Array,
): { scale: number; quantLength: number; error: number } {
  let max = 0;
  for (const v of query) max = Math.max(max, Math.abs(v));
  const s = max > 0 ? max / QUERY_LEVELS : 1;
  let l2 = 0;
  let e2 = 0;
  for (let j = 0; j < query.length; j++) {
    const c = Math.round(query[j] / s);
    out[j] = c + QUERY_ZERO;
    l2 += (s * c) ** 2;
    e2 += (query[j] - s * c) ** 2;
  }
  return { scale: s, quantLength: Math.sqrt(l2), error: Math.sqrt(e2) };
}

interface ExactNearest {
  /** Nearest row per query (-1: none allowed), its |t|^2 - 2 q.t (add |q|^2 for the squared
   * distance), and how many rows were re-scored exactly (the coarse pass's miss margin). */
  row: Int32Array;
  partial: Float64Array;
  rescored: Int32Array;
}

/** Relative and absolute slack on the bound: for |t| taken from the float32 |t|^2 (2^-25
 * relative), the double-precision rounding of the bound's terms (~1e-16 relative each) and of the
 * exact re-score's 512-term sums (~1e-13). */
const SLACK_REL = 1e-6;
const SLACK_ABS = 1e-9;

/**
 * The nearest row of each query by |t|^2 - 2 q.t, exactly (see the file's comment): `norms` are
 * the |t|^2 the exact search uses, `skip(q)` rows [s0, s1) query q must not match.
 */
export async function nearestRowsCoarseThenExact(
  data: Float32Array,
  rows: number,
  size: number,
  norms: ArrayLike<number>,
  queries: Float32Array,
  count: number,
  options: { threads: number; skip?: (q: number) => readonly [number, number] | undefined },
): Promise<ExactNearest> {
  const { session, scale, error } = await coarseIndexOf(data, rows, size, options.threads);
  const input = new Uint8Array(count * size);
  const queryTerms = Array.from({ length: count }, (_, q) =>
    quantizeQuery(queries.subarray(q * size, (q + 1) * size), input.subarray(q * size, (q + 1) * size)),
  );
  const res = await session.run({ a: new ort.Tensor('uint8', input, [count, size]) });
  const y = res.y.data as Int32Array;
  const row = new Int32Array(count).fill(-1);
  const partial = new Float64Array(count).fill(Infinity);
  const rescored = new Int32Array(count);
  const coarse = new Float64Array(rows);
  const bound = new Float64Array(rows);
  for (let q = 0; q < count; q++) {
    const { scale: sq, quantLength, error: eq } = queryTerms[q];
    const [s0, s1] = options.skip?.(q) ?? [-1, -1];
    const yo = q * rows;
    let upper = Infinity;
    for (let r = 0; r < rows; r++) {
      const c = norms[r] - 2 * sq * scale[r] * y[yo + r];
      const b = 2 * (eq * Math.sqrt(norms[r]) + quantLength * error[r]) * (1 + SLACK_REL) + SLACK_ABS;
      coarse[r] = c;
      bound[r] = b;
      if (c + b < upper && !(r >= s0 && r < s1)) upper = c + b;
    }
    const qo = q * size;
    let best = Infinity;
    let bestRow = -1;
    let n = 0;
    for (let r = 0; r < rows; r++) {
      if (coarse[r] - bound[r] > upper || (r >= s0 && r < s1)) continue;
      n++;
      let dot = 0;
      const o = r * size;
      for (let j = 0; j < size; j++) dot += queries[qo + j] * data[o + j];
      const exact = norms[r] - 2 * dot;
      if (exact < best) {
        best = exact;
        bestRow = r;
      }
    }
    row[q] = bestRow;
    partial[q] = best;
    rescored[q] = n;
  }
  return { row, partial, rescored };
}
