/**
 * Issue 25, one-off: open-set figures of a descriptor (ours, a candidate's, or their fusion) on
 * the descriptors bench/candidates-extract.ts and bench/candidates-describe.ts cached:
 * `nice -n 19 npx tsx bench/candidates-score.ts <cacheDir> <dev|large> <spec>...`.
 *
 * A spec is `ours`, `ours~<file.f32>` (our gallery templates, probes from the file: e.g. our net's
 * mirror-averaged frames from candidates-describe-onnx.ts), or `<file.f32>` (a candidate's rows), or
 * a fusion `w:ours+<file.f32>` (or `w:ours~<probes.f32>+<file.f32>`): the
 * cosine similarity w x ours + (1 - w) x candidate (the concatenation of the unit vectors
 * scaled by sqrt(w) and sqrt(1 - w)). `<file.f32>` may be `a|b|...`: the mean of those rows
 * (unit length each), e.g. a face's views. For our MobileFaceNet, gallery photos take the
 * engine's enrolled template and probes its frame descriptor; a candidate's gallery photos take
 * `--gallery-views <file|file...>` when given (the mean of those views), else the probe's file.
 *
 * Protocols, as in docs/benchmarks.md ("Issue 25: levers for one photo per person"):
 * - large (../shared/data/openset-large): gallery = its 1,270 people (one photo each); probes =
 *   270 known + 1,000 strangers.
 * - dev (../shared/data/openset): gallery = its 100 people's first photo + 300 of its 600
 *   strangers enrolled as distractors (`--split`), probes = its 300 known photos + the other 300
 *   strangers.
 * Figures: identification at stranger FAR 1% / 0.1% and rank-1 (openset-metrics.ts, the
 * decision's own score: cosine distance to the nearest template), and known named right /
 * strangers accepted at the engine's default rule (open-set.ts decideIdentities, threshold
 * calibrated on the gallery, capped at `--pair` (default 0.65, MobileFaceNet's 1:1 threshold)).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { chooseThreshold, decideIdentities } from '../functions/core/faces/open-set.js';
import type { Gallery } from '../functions/core/gallery/read.js';
import { option } from './args.js';
import type { CandidateIndexEntry } from './candidates-extract.js';
import { openSetFigures, type ProbeOutcome } from './openset-metrics.js';

const unit = (v: Float32Array) => {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
};

function readFloats(file: string): Float32Array {
  const buf = readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/** The mean of a descriptor file's rows (unit length first), rows of zeros (no face) left out. */
function meanRow(file: string, dim: number): Float32Array {
  const data = readFloats(file);
  const mean = new Float32Array(dim);
  let n = 0;
  for (let r = 0; r < data.length / dim; r++) {
    const v = data.slice(r * dim, (r + 1) * dim);
    if (v.every((x) => x === 0)) continue;
    unit(v).forEach((x, j) => (mean[j] += x));
    n++;
  }
  return mean.map((x) => x / n);
}

/**
 * A candidate's rows, unit length. `file@c` subtracts the mean row of the file itself (after
 * unit length; a descriptor of nonnegative pooled features needs centring before cosine);
 * `file@c=<other.f32>` the mean of another file's rows (the dev set's, for openset-large).
 */
function readRows(cacheDir: string, spec: string, rows: number): Float32Array[] {
  const parts = spec.split('|').map((entry) => {
    const [f, centre] = entry.split('@c');
    const file = path.isAbsolute(f) ? f : path.join(cacheDir, f);
    const data = readFloats(file);
    const dim = data.length / rows;
    const mean = centre === undefined ? null : meanRow(centre.startsWith('=') ? centre.slice(1) : file, dim);
    return Array.from({ length: rows }, (_, r) => {
      const v = unit(data.slice(r * dim, (r + 1) * dim));
      if (mean) v.forEach((x, j) => (v[j] = x - mean[j]));
      return unit(v);
    });
  });
  return parts[0].map((_, r) => {
    const sum = new Float32Array(parts[0][r].length);
    for (const p of parts) p[r].forEach((x, j) => (sum[j] += x));
    return unit(sum);
  });
}

interface Described {
  /** Per index row: the probe descriptor and the gallery descriptor (unit length), or null. */
  probe: Array<Float32Array | null>;
  gallery: Array<Float32Array | null>;
}

function concat(parts: Array<{ d: Described; w: number }>, rows: number): Described {
  const join = (pick: (d: Described) => Array<Float32Array | null>) =>
    Array.from({ length: rows }, (_, r) => {
      const vs = parts.map((p) => pick(p.d)[r]);
      if (vs.some((v) => !v)) return null;
      const out = new Float32Array(vs.reduce((n, v) => n + v!.length, 0));
      let o = 0;
      vs.forEach((v, i) => {
        const k = Math.sqrt(parts[i].w);
        v!.forEach((x, j) => (out[o + j] = x * k));
        o += v!.length;
      });
      return out;
    });
  return { probe: join((d) => d.probe), gallery: join((d) => d.gallery) };
}

export function describedBy(
  cacheDir: string,
  index: CandidateIndexEntry[],
  spec: string,
  galleryViews: string | undefined,
): Described {
  const rows = index.length;
  const fusion = /^([\d.]+):(ours(?:~[^+]+)?)\+(.+)$/.exec(spec);
  if (fusion) {
    const w = Number(fusion[1]);
    return concat(
      [
        { d: describedBy(cacheDir, index, fusion[2], undefined), w },
        { d: describedBy(cacheDir, index, fusion[3], galleryViews), w: 1 - w },
      ],
      rows,
    );
  }
  const ours = /^ours(?:~(.+))?$/.exec(spec);
  if (ours) {
    const gallery = index.map((e) => (e.enrolled ? unit(Float32Array.from(e.enrolled)) : null));
    // `ours~<file.f32>`: our gallery templates, the probes from a file (e.g. mirror-averaged frames).
    const probe = ours[1]
      ? readRows(cacheDir, ours[1], rows).map((v, r) => (index[r].frame ? v : null))
      : index.map((e) => (e.frame ? unit(Float32Array.from(e.frame)) : null));
    return { probe, gallery };
  }
  const probe = readRows(cacheDir, spec, rows).map((v, r) => (index[r].usable ? v : null));
  const gallery = galleryViews
    ? readRows(cacheDir, galleryViews, rows).map((v, r) => (index[r].usable ? v : null))
    : probe;
  return { probe, gallery };
}

const key = (n: string) => createHash('sha256').update(n).digest('hex');

/** Gallery rows (with the name they are enrolled under) and probe rows of a protocol. */
export function protocol(
  index: CandidateIndexEntry[],
  which: string,
  split: string,
): {
  gallery: Array<{ row: number; name: string }>;
  probes: Array<{ row: number; truth: string; known: boolean }>;
} {
  const rowsOf = (role: string) => index.map((e, row) => ({ ...e, row })).filter((e) => e.role === role);
  if (which === 'large')
    return {
      gallery: rowsOf('gallery').map((e) => ({ row: e.row, name: e.truth })),
      probes: [
        ...rowsOf('probe-known').map((e) => ({ row: e.row, truth: e.truth, known: true })),
        ...rowsOf('probe-strangers').map((e) => ({ row: e.row, truth: e.truth, known: false })),
      ],
    };
  const seen = new Set<string>();
  const first = rowsOf('gallery').filter((e) => !seen.has(e.truth) && seen.add(e.truth));
  const strangers = rowsOf('probe-strangers');
  // `<split>~`: the complement (the other half enrolled).
  const complement = split.endsWith('~');
  const how = split.replace(/~$/, '');
  const order =
    how === 'hash' ? [...strangers].sort((a, b) => (key(a.truth) < key(b.truth) ? -1 : 1)) : strangers;
  const half = how === 'alt' ? order.filter((_, i) => i % 2 === 0) : order.slice(0, order.length / 2);
  const inHalf = new Set(half.map((e) => e.row));
  const enrolled = new Set(strangers.filter((e) => inHalf.has(e.row) !== complement).map((e) => e.row));
  return {
    gallery: [
      ...first.map((e) => ({ row: e.row, name: e.truth })),
      ...strangers
        .filter((e) => enrolled.has(e.row))
        .map((e) => ({ row: e.row, name: `stranger:${e.truth}` })),
    ],
    probes: [
      ...rowsOf('probe-known').map((e) => ({ row: e.row, truth: e.truth, known: true })),
      ...strangers
        .filter((e) => !enrolled.has(e.row))
        .map((e) => ({ row: e.row, truth: e.truth, known: false })),
    ],
  };
}

export interface Scored {
  far1: number;
  far01: number;
  rank1: number;
  namedRight: number;
  known: number;
  strangersAccepted: number;
  strangers: number;
  threshold: number;
}

export async function score(
  d: Described,
  p: ReturnType<typeof protocol>,
  pairThreshold: number,
): Promise<Scored> {
  const gallery = p.gallery.filter((g) => d.gallery[g.row]);
  const outcomes: ProbeOutcome[] = p.probes.map((probe) => {
    const q = d.probe[probe.row];
    if (!q)
      return {
        truth: probe.truth,
        known: probe.known,
        usable: false,
        nearest: null,
        score: null,
        decided: 'Unknown',
      };
    let best = -Infinity;
    let nearest = '';
    for (const g of gallery) {
      const t = d.gallery[g.row]!;
      let dot = 0;
      for (let j = 0; j < t.length; j++) dot += t[j] * q[j];
      if (dot > best) {
        best = dot;
        nearest = g.name;
      }
    }
    return {
      truth: probe.truth,
      known: probe.known,
      usable: true,
      nearest,
      score: 1 - best,
      decided: 'Unknown',
    };
  });
  const figures = openSetFigures(outcomes);
  // The engine's default decision on this gallery.
  const size = d.gallery[gallery[0].row]!.length;
  const g: Gallery = {
    version: 1,
    modelId: 'candidates',
    descriptorSize: size,
    people: gallery.map((x) => ({
      name: x.name,
      images: [{ file: String(x.row), sha256: '0'.repeat(64), descriptor: Array.from(d.gallery[x.row]!) }],
    })),
  };
  const usable = p.probes.filter((probe) => d.probe[probe.row]);
  const config = {
    descriptor: 'mobilefacenet' as const,
    matchThreshold: pairThreshold,
    matchThresholdFixed: false,
    openSetRule: true,
  };
  const matches = await decideIdentities(
    g,
    usable.map((probe) => d.probe[probe.row]!),
    config,
  );
  let namedRight = 0;
  let strangersAccepted = p.probes.filter((probe) => !probe.known && !d.probe[probe.row]).length;
  usable.forEach((probe, i) => {
    const m = matches[i];
    if (probe.known && m.name === probe.truth) namedRight++;
    if (!probe.known && m.name !== 'Unknown') strangersAccepted++;
  });
  const { threshold } = await chooseThreshold(g, config);
  const at = (far: number) => figures.curve.find((c) => c.targetFar === far)!.identificationRate;
  return {
    far1: at(0.01),
    far01: at(0.001),
    rank1: figures.rank1,
    namedRight,
    known: figures.known.total,
    strangersAccepted,
    strangers: figures.strangers.total,
    threshold,
  };
}

const pct = (x: number) => (x * 100).toFixed(2);

export function formatScored(label: string, s: Scored): string {
  return (
    `| ${label} | ${pct(s.far1)} / ${pct(s.far01)} | ${pct(s.rank1)} | ` +
    `${s.namedRight}/${s.known} (${pct(s.namedRight / s.known)}%), strangers ${s.strangersAccepted}/${s.strangers}, threshold ${s.threshold.toFixed(3)} |`
  );
}

async function main(): Promise<void> {
  const [cacheDir, which, ...specs] = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const split = option('--split', 'half');
  const views = option('--gallery-views', '') || undefined;
  const pair = Number(option('--pair', '0.65'));
  const { index } = JSON.parse(readFileSync(path.join(cacheDir, 'index.json'), 'utf8')) as {
    index: CandidateIndexEntry[];
  };
  // Several splits (`half,half~`): the mean of their figures (the dev set's strangers each
  // probed once over the pair of complementary splits).
  const protocols = split.split(',').map((sp) => protocol(index, which, sp));
  const p = protocols[0];
  console.log(
    `${which} (${cacheDir}, split ${split}): gallery ${p.gallery.length}, probes ${p.probes.filter((x) => x.known).length} known + ${p.probes.filter((x) => !x.known).length} strangers`,
  );
  console.log(
    '| descriptor | ident. at FAR 1% / 0.1% | rank-1 | default rule: known named right, strangers accepted |',
  );
  for (const spec of specs) {
    const d = describedBy(cacheDir, index, spec, views);
    const all = await Promise.all(protocols.map((q) => score(d, q, pair)));
    const mean = Object.fromEntries(
      Object.keys(all[0]).map((k) => [k, all.reduce((x, s) => x + s[k as keyof Scored], 0) / all.length]),
    ) as unknown as Scored;
    console.log(formatScored(spec, mean));
  }
}

await main();
