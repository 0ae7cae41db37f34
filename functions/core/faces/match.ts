/**
 * Nearest-neighbour search over a matrix of descriptors (one row per person's template, or per
 * enrolled photo): every query against every row as one matrix product, then the nearest row
 * of each query. Euclidean distance (dlib's metric) or cosine distance (1 - cos, for
 * L2-normalised descriptors), both from |q|^2 + |t|^2 - 2 q.t.
 *
 * Small products run as a plain loop. Large ones (a gallery of thousands of people, or the
 * calibration's thousands of searches) run as one ONNX MatMul in onnxruntime, whose kernels read
 * the template matrix at memory speed: 100,000 x 512 float32 templates (205 MB) take
 * ~10-30 ms per pass on this machine, where a JavaScript loop takes ~300 ms. A pass costs
 * about the same for 1 query as for 16 (the matrix is read once), so all faces of a frame are
 * searched together. From COARSE_MIN_ROWS rows up, a pass reads an 8-bit copy (a quarter of the
 * bytes) and re-scores exactly the rows it cannot rule out, with the same answers
 * (quantized-search.ts; docs/benchmarks.md, "Galleries of 100,000 people").
 */
import ort from 'onnxruntime-node';
import type { DescriptorMetric } from './describe.js';
import { ONNX_TYPE, onnxModel, tensorInfo } from './onnx-writer.js';
import { initOnnxRuntimeOnLargeStack } from './onnxruntime-init.js';
import { COARSE_MIN_ROWS } from './quantized-rows.js';
import { nearestRowsCoarseThenExact } from './quantized-search.js';
import { UNKNOWN } from './types.js';

/** Row-major descriptors: `rows` x `size` values. */
export interface RowMatrix {
  data: Float32Array;
  rows: number;
  size: number;
  /** |row|^2 of each row when known already (a store carries them: no pass over the matrix at
   * a cold start); computed on first use otherwise. */
  norms?: Float32Array;
}

export interface Match {
  name: string;
  distance: number | null;
  /** The nearest person even when beyond the threshold (useful for diagnostics). */
  nearest: string | null;
}

/** Squared Euclidean distance -> the metric's distance (for unit vectors, 1 - cos = |a-b|^2 / 2). */
export const fromSquared = (metric: DescriptorMetric, sum: number) =>
  metric === 'cosine' ? Math.max(0, sum) / 2 : Math.sqrt(Math.max(0, sum));

/** Below this many multiply-adds a search runs as a loop (an onnxruntime call costs ~0.1 ms). */
const LOOP_LIMIT = 1 << 21;
/** Queries per onnxruntime pass: the output (rows x QUERY_CHUNK floats) stays ~25 MB at 100k rows. */
const QUERY_CHUNK = 64;

const norms = new WeakMap<Float32Array, ArrayLike<number>>();

/** |row|^2 of each of `rows` rows of `data`, in double precision. */
export function rowSquaredNorms(data: Float32Array, rows: number, size: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * size;
    for (let j = 0; j < size; j++) s += data[o + j] * data[o + j];
    out[r] = s;
  }
  return out;
}

/** |row|^2 of every row (given, or cached per matrix: a warm container searches the same one again). */
function squaredNorms(m: RowMatrix): ArrayLike<number> {
  if (m.norms && m.norms.length === m.rows) return m.norms;
  let n = norms.get(m.data);
  if (!n || n.length !== m.rows) {
    n = rowSquaredNorms(m.data, m.rows, m.size);
    norms.set(m.data, n);
  }
  return n;
}

// --- one ONNX MatMul: s[n, b] = t[n, d] x q[d, b] ---------------------------------------------
// The model is 150 bytes of protobuf, written here rather than shipped (onnx-writer.ts).

/** The MatMul model's bytes (exported for the test that decodes them with onnx-proto). */
export function matMulModel(): Uint8Array {
  return onnxModel({
    name: 'gallery-search',
    nodes: [{ op: 'MatMul', inputs: ['t', 'q'], outputs: ['s'] }],
    inputs: [tensorInfo('t', ONNX_TYPE.float, ['n', 'd']), tensorInfo('q', ONNX_TYPE.float, ['d', 'b'])],
    outputs: [tensorInfo('s', ONNX_TYPE.float, ['n', 'b'])],
    opsets: { '': 13 },
  });
}

const sessions = new Map<number, Promise<ort.InferenceSession>>();

function matMulSession(threads: number): Promise<ort.InferenceSession> {
  let s = sessions.get(threads);
  if (!s) {
    s = initOnnxRuntimeOnLargeStack().then(() =>
      ort.InferenceSession.create(matMulModel(), {
        ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
        // As the face models (models.ts): spinning workers steal the cores on a busy machine.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      }),
    );
    sessions.set(threads, s);
    s.catch(() => sessions.delete(threads));
  }
  return s;
}

/** Dot products of `count` queries with every row: out[r * count + q]. */
async function dotProducts(
  m: RowMatrix,
  queries: Float32Array,
  count: number,
  threads: number,
): Promise<Float32Array> {
  const { rows, size } = m;
  if (rows * size * count < LOOP_LIMIT) {
    const out = new Float32Array(rows * count);
    for (let r = 0; r < rows; r++) {
      const o = r * size;
      for (let q = 0; q < count; q++) {
        const qo = q * size;
        let s = 0;
        for (let j = 0; j < size; j++) s += m.data[o + j] * queries[qo + j];
        out[r * count + q] = s;
      }
    }
    return out;
  }
  // q as [d, b]: the queries transposed.
  const qt = new Float32Array(size * count);
  for (let q = 0; q < count; q++) for (let j = 0; j < size; j++) qt[j * count + q] = queries[q * size + j];
  const session = await matMulSession(threads);
  const res = await session.run({
    t: new ort.Tensor('float32', m.data.subarray(0, rows * size), [rows, size]),
    q: new ort.Tensor('float32', qt, [size, count]),
  });
  return res.s.data as Float32Array;
}

export interface Nearest {
  /** Index of the nearest row per query; -1 when no row may match. */
  index: Int32Array;
  /** Its distance in the metric; Infinity when none. */
  distance: Float64Array;
}

export interface SearchOptions {
  /** Rows [start, end) that query `q` must not match (its own person), or undefined. */
  skip?: (q: number) => readonly [number, number] | undefined;
  /** onnxruntime intra-op threads (0: one per core). */
  threads?: number;
  /** From this many rows up, search coarse-then-exact (quantized-search.ts); tests lower it. */
  coarseMinRows?: number;
}

/** The nearest row of `m` to each of `count` queries (row-major in `queries`). */
export async function nearestRows(
  m: RowMatrix,
  queries: Float32Array,
  count: number,
  metric: DescriptorMetric,
  options: SearchOptions = {},
): Promise<Nearest> {
  const index = new Int32Array(count).fill(-1);
  const distance = new Float64Array(count).fill(Infinity);
  if (m.rows === 0 || count === 0) return { index, distance };
  const rowNorms = squaredNorms(m);
  const coarse = m.rows >= (options.coarseMinRows ?? COARSE_MIN_ROWS);
  for (let start = 0; start < count; start += QUERY_CHUNK) {
    const n = Math.min(QUERY_CHUNK, count - start);
    const chunk = queries.subarray(start * m.size, (start + n) * m.size);
    if (coarse) {
      const found = await nearestRowsCoarseThenExact(m.data, m.rows, m.size, rowNorms, chunk, n, {
        threads: options.threads ?? 0,
        skip: options.skip && ((q) => options.skip!(start + q)),
      });
      for (let q = 0; q < n; q++) {
        if (found.row[q] < 0) continue;
        let qn = 0;
        for (let j = q * m.size; j < (q + 1) * m.size; j++) qn += chunk[j] * chunk[j];
        index[start + q] = found.row[q];
        distance[start + q] = fromSquared(metric, found.partial[q] + qn);
      }
      continue;
    }
    const dots = await dotProducts(m, chunk, n, options.threads ?? 0);
    for (let q = 0; q < n; q++) {
      const qo = q * m.size;
      let qn = 0;
      for (let j = 0; j < m.size; j++) qn += chunk[qo + j] * chunk[qo + j];
      const [s0, s1] = options.skip?.(start + q) ?? [-1, -1];
      let best = Infinity;
      let bestRow = -1;
      for (let r = 0; r < m.rows; r++) {
        if (r >= s0 && r < s1) continue;
        const sq = rowNorms[r] - 2 * dots[r * n + q];
        if (sq < best) {
          best = sq;
          bestRow = r;
        }
      }
      if (bestRow >= 0) {
        index[start + q] = bestRow;
        distance[start + q] = fromSquared(metric, best + qn);
      }
    }
  }
  return { index, distance };
}

/** Descriptors as one row-major matrix (each must have `size` values). */
export function toRows(descriptors: readonly ArrayLike<number>[], size: number): Float32Array {
  const out = new Float32Array(descriptors.length * size);
  descriptors.forEach((d, i) => out.set(d, i * size));
  return out;
}

/** The name of each query's nearest row (`owner` maps rows to `names`; undefined: row i is
 * names[i]), within `threshold`. */
export async function matchRows(
  m: RowMatrix,
  owner: ArrayLike<number> | undefined,
  names: readonly string[],
  queries: readonly ArrayLike<number>[],
  threshold: number,
  metric: DescriptorMetric,
  threads = 0,
  coarseMinRows?: number,
): Promise<Match[]> {
  const found = await nearestRows(m, toRows(queries, m.size), queries.length, metric, {
    threads,
    coarseMinRows,
  });
  return queries.map((_, q) => {
    const row = found.index[q];
    if (row < 0) return { name: UNKNOWN, distance: null, nearest: null };
    const nearest = names[owner ? owner[row] : row];
    const distance = found.distance[q];
    return { name: distance <= threshold ? nearest : UNKNOWN, distance, nearest };
  });
}
