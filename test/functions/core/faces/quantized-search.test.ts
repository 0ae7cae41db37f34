/**
 * The coarse-then-exact search (quantized-search.ts) gives the exact search's decisions: the
 * same nearest row and the same distance for every probe, hence the same open-set decision, on
 * synthetic galleries built to be hard for it (near-duplicate clusters inside the coarse pass's
 * error bound, rows of very different lengths, exact ties, zero vectors) and on real MobileFaceNet
 * descriptors of ../shared/data/openset (skipped with a message when absent).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import { matchRows, nearestRows, rowSquaredNorms, type RowMatrix } from '#functions/core/faces/match.js';
import {
  COARSE_MIN_ROWS,
  TEMPLATE_LEVELS,
  quantizeRows,
  quantizedRowsOf,
} from '#functions/core/faces/quantized-rows.js';
import {
  decodeGalleryStore,
  encodeGalleryStore,
  type CompiledGallery,
} from '#functions/core/gallery/store.js';
import { randomUnitRows } from '#bench/synthetic-faces.js';
import { repoRoot } from '#test/support/videos.js';

const FORCE = { coarseMinRows: 0 };
const FLOAT = { coarseMinRows: Infinity };

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** The exact nearest row by brute force, in double precision, as the re-score computes it
 * (|t|^2 - 2 q.t, lowest row on ties), and the gap to the runner-up. */
function bruteForce(m: RowMatrix, query: Float32Array, skip?: [number, number]) {
  const norms = m.norms ?? rowSquaredNorms(m.data, m.rows, m.size);
  let best = Infinity;
  let second = Infinity;
  let row = -1;
  for (let r = 0; r < m.rows; r++) {
    if (skip && r >= skip[0] && r < skip[1]) continue;
    let dot = 0;
    for (let j = 0; j < m.size; j++) dot += query[j] * m.data[r * m.size + j];
    const v = norms[r] - 2 * dot;
    if (v < best) [second, best, row] = [best, v, r];
    else if (v < second) second = v;
  }
  let qn = 0;
  for (const x of query) qn += x * x;
  return { row, squared: best + qn, gap: second - best, queryNorm: qn };
}

/** Coarse-then-exact against brute force (identical rows and distances) and against the float32
 * onnxruntime pass (identical rows wherever the runner-up is not within float32 noise). */
async function expectSameAsExact(
  m: RowMatrix,
  queries: Float32Array,
  metric: 'cosine' | 'euclidean',
  skip?: (q: number) => [number, number],
) {
  const count = queries.length / m.size;
  const norms = m.norms ?? rowSquaredNorms(m.data, m.rows, m.size);
  const coarse = await nearestRows(m, queries, count, metric, { ...FORCE, skip });
  const float = await nearestRows(m, queries, count, metric, { ...FLOAT, skip });
  let compared = 0;
  for (let q = 0; q < count; q++) {
    const ref = bruteForce(m, queries.subarray(q * m.size, (q + 1) * m.size), skip?.(q));
    const distance = metric === 'cosine' ? Math.max(0, ref.squared) / 2 : Math.sqrt(Math.max(0, ref.squared));
    expect(coarse.index[q]).toBe(ref.row);
    expect(coarse.distance[q]).toBe(distance);
    if (ref.gap > 1e-4) {
      compared++;
      expect(float.index[q]).toBe(coarse.index[q]);
      // float32 rounding grows with the terms of |t|^2 - 2 q.t + |q|^2 (|t|^2 up to 1e4 in the
      // euclidean case): compare squared distances within ~10 float32 ulps of those terms
      const squared = (d: number) => (metric === 'cosine' ? 2 * d : d * d);
      const scale = norms[ref.row] + ref.queryNorm;
      expect(Math.abs(squared(float.distance[q]) - squared(coarse.distance[q]))).toBeLessThan(
        1e-6 * scale + 1e-7,
      );
    }
  }
  return compared;
}

/** Rows of `noise`-perturbed copies of `base` rows (unit length again when `unit`). */
function near(base: Float32Array, size: number, picks: number[], noise: number, seed: number, unit = true) {
  const rand = rng(seed);
  const out = new Float32Array(picks.length * size);
  picks.forEach((p, i) => {
    let n = 0;
    for (let j = 0; j < size; j++) {
      const v = base[p * size + j] + noise * rand();
      out[i * size + j] = v;
      n += v * v;
    }
    if (unit) for (let j = 0; j < size; j++) out[i * size + j] /= Math.sqrt(n);
  });
  return out;
}

const concat = (...parts: Float32Array[]) => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

describe('8-bit copy of a template matrix', () => {
  it('rounds each row to -127..127 times its scale and records exactly what the rounding lost', () => {
    const size = 64;
    const data = concat(randomUnitRows(50, size, 3), new Float32Array(size)); // and a zero row
    const q = quantizeRows(data, 51, size);
    for (let r = 0; r < 51; r++) {
      let e2 = 0;
      for (let j = 0; j < size; j++) {
        const c = q.codes[j * 51 + r];
        expect(Math.abs(c)).toBeLessThanOrEqual(TEMPLATE_LEVELS);
        expect(Math.abs(data[r * size + j] - q.scale[r] * c)).toBeLessThanOrEqual(q.scale[r] / 2 + 1e-12);
        e2 += (data[r * size + j] - q.scale[r] * c) ** 2;
      }
      expect(q.error[r]).toBeGreaterThanOrEqual(Math.sqrt(e2));
      expect(q.error[r]).toBeLessThan(Math.sqrt(e2) * (1 + 1e-6) + 1e-30);
    }
    expect(q.error[50]).toBe(0);
  });
});

describe('coarse-then-exact search gives the exact search decisions', () => {
  const size = 512;

  it('random unit templates: known probes (noisy copies), strangers, exact copies', async () => {
    const base = randomUnitRows(1500, size, 11);
    const m = { data: base, rows: 1500, size };
    const picks = Array.from({ length: 40 }, (_, i) => i * 37);
    const queries = concat(
      near(base, size, picks, 0.05, 1),
      randomUnitRows(40, size, 12),
      base.slice(5 * size, 8 * size),
    );
    expect(await expectSameAsExact(m, queries, 'cosine')).toBeGreaterThan(60);
  });

  it('clusters of near-duplicates inside the coarse bound, with exact duplicate rows (ties)', async () => {
    const centers = randomUnitRows(50, size, 21);
    const rows = Array.from({ length: 1000 }, (_, i) => i % 50);
    const data = concat(
      near(centers, size, rows, 0.002, 22),
      centers.slice(0, 10 * size),
      centers.slice(0, 10 * size),
    );
    const m = { data, rows: data.length / size, size };
    const queries = concat(
      near(
        centers,
        size,
        Array.from({ length: 50 }, (_, i) => i),
        0.01,
        23,
      ),
      centers.slice(0, 5 * size),
    );
    await expectSameAsExact(m, queries, 'cosine');
  });

  it('rows of very different lengths, a zero row and a zero query (euclidean)', async () => {
    const rand = rng(31);
    const data = randomUnitRows(1200, size, 32);
    for (let r = 0; r < 1200; r++) {
      const f = 10 ** (2 * rand());
      for (let j = 0; j < size; j++) data[r * size + j] *= f;
    }
    data.fill(0, 100 * size, 101 * size);
    const m = { data, rows: 1200, size, norms: rowSquaredNorms(data, 1200, size) };
    const queries = concat(
      near(data, size, [1, 2, 3, 500, 1199], 0.05, 33, false),
      new Float32Array(size),
      randomUnitRows(20, size, 34),
    );
    await expectSameAsExact(m, queries, 'euclidean');
  });

  it('skips the rows a query must not match', async () => {
    const base = randomUnitRows(800, size, 41);
    const queries = base.slice(0, 40 * size);
    await expectSameAsExact({ data: base, rows: 800, size }, queries, 'cosine', (q) => [q, q + 1]);
  });

  it('names the same person or Unknown as the float32 search, at any threshold', async () => {
    const base = randomUnitRows(1000, size, 51);
    const m = { data: base, rows: 1000, size };
    const names = Array.from({ length: 1000 }, (_, i) => `p${i}`);
    const faces = Array.from({ length: 80 }, (_, i) =>
      i < 40 ? near(base, size, [i * 13], 0.04 + 0.001 * i, 52 + i) : randomUnitRows(1, size, 100 + i),
    );
    for (const threshold of [0.3, 0.5, 0.534, 0.65, 0.8]) {
      const coarse = await matchRows(m, undefined, names, faces, threshold, 'cosine', 0, FORCE.coarseMinRows);
      const float = await matchRows(m, undefined, names, faces, threshold, 'cosine', 0, FLOAT.coarseMinRows);
      expect(coarse.map((x) => x.name)).toEqual(float.map((x) => x.name));
      coarse.forEach((x, i) => expect(Math.abs(x.distance! - float[i].distance!)).toBeLessThan(1e-5));
    }
  });
});

describe('a binary store carries the 8-bit copy of a large gallery', () => {
  const size = 4;
  const gallery = (rows: number): CompiledGallery => ({
    kind: 'compiled',
    modelId: 'test',
    descriptorSize: size,
    id: 'x',
    names: Array.from({ length: rows }, (_, i) => `p${i}`),
    counts: new Uint32Array(rows).fill(1),
    images: randomUnitRows(rows, size, 61),
    cohort: new Float32Array(),
    provenance: () => Array.from({ length: rows }, () => ({ file: 'f', sha256: 's' })),
  });

  it.each(['float32', 'float16'] as const)(
    '%s: read back as made from the decoded values, not made again',
    (dtype) => {
      const rows = COARSE_MIN_ROWS;
      const read = decodeGalleryStore(encodeGalleryStore(gallery(rows), { dtype }), 'test');
      const carried = quantizedRowsOf(read.images, rows, size);
      expect(quantizedRowsOf(read.images, rows, size)).toBe(carried); // remembered, not recomputed
      const fresh = quantizeRows(read.images, rows, size);
      expect(carried.codes).toEqual(fresh.codes);
      expect(carried.scale).toEqual(fresh.scale);
      expect(carried.error).toEqual(fresh.error);
    },
  );

  it('a smaller gallery has none, and gets one made when searched coarse', () => {
    const bytes = encodeGalleryStore(gallery(100), { dtype: 'float32' });
    expect(Buffer.from(bytes).includes('coarse.codes')).toBe(false);
    const read = decodeGalleryStore(bytes, 'small');
    expect(quantizedRowsOf(read.images, 100, size)).not.toBe(quantizedRowsOf(read.images, 100, size));
  });
});

const OPENSET = path.resolve(repoRoot, '../shared/data/openset');
const shared = existsSync(OPENSET) ? describe : describe.skip;
if (!existsSync(OPENSET)) console.warn(`skipping real-descriptor search tests: ${OPENSET} is absent`);

shared('on real descriptors (../shared/data/openset)', () => {
  let gallery: Float32Array;
  let probes: Float32Array;
  const size = 512;

  beforeAll(async () => {
    const engine = await createFaceEngine(loadConfig({}).engine);
    const describe1 = async (file: string) =>
      (await engine.analyzeFaces(await readFile(file))).faces[0]?.descriptor;
    const firstOf = async (folder: string, people: number) => {
      const out: Float32Array[] = [];
      for (const person of (await readdir(folder)).sort().slice(0, people)) {
        const file = (await readdir(path.join(folder, person))).sort()[0];
        const d = await describe1(path.join(folder, person, file));
        if (d) out.push(d);
      }
      return out;
    };
    gallery = concat(...(await firstOf(path.join(OPENSET, 'gallery'), 25)));
    probes = concat(
      ...(await firstOf(path.join(OPENSET, 'probe-known'), 25)),
      ...(await firstOf(path.join(OPENSET, 'probe-strangers'), 25)),
    );
  }, 600_000);

  it('the same nearest person and distance for known people and strangers', async () => {
    const m = { data: gallery, rows: gallery.length / size, size };
    expect(m.rows).toBeGreaterThan(20);
    await expectSameAsExact(m, probes, 'cosine');
  });

  it('among 3,000 synthetic distractors: known people and strangers', async () => {
    const data = concat(randomUnitRows(3000, size, 71), gallery);
    const m = {
      data,
      rows: data.length / size,
      size,
      norms: rowSquaredNorms(data, data.length / size, size),
    };
    await expectSameAsExact(m, probes, 'cosine');
  }, 300_000);
});
