/**
 * The 1:N decision: who, among the enrolled people, is this face, if anyone. Measured lever by
 * lever on open-set data in docs/benchmarks.md ("Face engine: open set"); what is kept:
 *
 * - per-person templates: a face is compared with each person's template (the mean of their
 *   enrolled descriptors, re-normalised for a cosine descriptor), all templates in one matrix
 *   product (match.ts);
 * - a threshold that aims at a stated share of strangers named as someone per search
 *   (FACEREC_STRANGER_FALSE_ACCEPT, default 0.2%), for this gallery and its size. The gallery
 *   is its own stranger sample: every enrolled photo searched among the OTHER people is what a
 *   stranger's search meets, with one photo per person as with several (an even sample of
 *   2,000 photos in large galleries). A normal fit of those nearest distances gives the
 *   distance that the chosen share of searches comes under, corrected from the N-1 people a
 *   stand-in meets to the N a stranger meets. With fewer than 200 such searches the sample is
 *   too thin for the tail, so the threshold is also held to what the descriptor's measured
 *   comparisons of different people allow for N people (the model's `differentPersonTail`:
 *   each of N comparisons may err with about share/N), and the stricter of the two is taken; under 20 searches only that.
 *   Never above the descriptor's 1:1 threshold, nor under half of it.
 *
 * Measured and not kept (docs/benchmarks.md): score normalisation (Z-, T-, S-norm and adaptive
 * S-norm with the gallery as cohort), a margin over the second-nearest person, whitening by the
 * gallery's or a labelled set's covariance; the face-api demo cohort as extra stand-in
 * strangers (its faces are farther from LFW people than LFW strangers are, so it made the
 * threshold laxer). With a fixed threshold (FACEREC_MATCH_THRESHOLD, --threshold) or
 * FACEREC_OPEN_SET_RULE=false, the decision is the one before this module: nearest enrolled
 * photo within that threshold.
 */
import { DEFAULT_STRANGER_FALSE_ACCEPT, type EngineConfig } from '../../config.js';
import { compileGallery, type AnyGallery, type CompiledGallery } from '../gallery/read.js';
import type { StrangerSample } from '../gallery/store.js';
import { toUnitLength, type DescriptorMetric } from './describe.js';
import { DESCRIPTORS, type DescriptorKind } from './descriptors/registry.js';
import { fromSquared, matchRows, nearestRows, type Match, type RowMatrix } from './match.js';
import { UNKNOWN } from './types.js';

export type DecisionConfig = Pick<
  EngineConfig,
  'descriptor' | 'matchThreshold' | 'matchThresholdFixed' | 'openSetRule'
> &
  Partial<Pick<EngineConfig, 'strangerFalseAccept' | 'onnxThreads'>>;

/** Enrolled photos searched as strangers, at most (an even sample beyond). */
const MAX_STAND_IN_SEARCHES = 2000;
/** Stand-in searches from which the gallery's own estimate is taken alone. */
const FULL_SAMPLE = 200;
/** Stand-in searches under which the gallery's estimate is not used. */
const MIN_SAMPLE = 20;

/** The distance under which a share `p` of different-person comparisons fall (the model's
 * `differentPersonTail`; log-linear between its points, the end slope past its ends). */
export function pairTailDistance(descriptor: DescriptorKind, p: number): number {
  const t = DESCRIPTORS[descriptor].differentPersonTail;
  const lp = Math.log10(p);
  let i = 0;
  while (i < t.length - 2 && lp < Math.log10(t[i + 1][0])) i++;
  const [a, b] = [t[i], t[i + 1]];
  const f = (lp - Math.log10(a[0])) / (Math.log10(b[0]) - Math.log10(a[0]));
  return a[1] + f * (b[1] - a[1]);
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

export interface ThresholdChoice {
  rule: 'gallery-calibrated' | 'fixed' | 'empty';
  threshold: number;
  /** What it aims at: the share of stranger searches named as someone (calibrated rule). */
  strangerFalseAccept?: number;
  /** The threshold and why, in plain words. */
  reason: string;
  /** Stand-in stranger searches it was measured on. */
  pseudoStrangers: number;
  /** Photos of people with 2+ photos within the threshold of their own other photos, of all. */
  ownPass?: { within: number; of: number };
}

// --- templates and the stranger sample ---------------------------------------------------------

const templateCache = new WeakMap<CompiledGallery, Map<DescriptorMetric, RowMatrix>>();

/** Each person's template: the mean of their photos (unit length again for cosine). A gallery of
 * one photo per person is its own template matrix (no copy). */
function templatesOf(g: CompiledGallery, metric: DescriptorMetric): RowMatrix {
  let byMetric = templateCache.get(g);
  if (!byMetric) templateCache.set(g, (byMetric = new Map()));
  let t = byMetric.get(metric);
  if (!t) {
    const size = g.descriptorSize;
    const n = g.names.length;
    if (g.counts.every((c) => c === 1)) t = { data: g.images, rows: n, size, norms: g.imageNorms };
    else {
      const data = new Float32Array(n * size);
      let row = 0;
      for (let p = 0; p < n; p++) {
        const k = g.counts[p];
        const o = p * size;
        for (let i = 0; i < k; i++, row++)
          for (let j = 0; j < size; j++) data[o + j] += g.images[row * size + j] / k;
        if (metric === 'cosine' && k > 0) toUnitLength(data.subarray(o, o + size));
      }
      t = { data, rows: n, size };
    }
    byMetric.set(metric, t);
  }
  return t;
}

const owners = new WeakMap<CompiledGallery, Uint32Array>();

/** The person each photo row belongs to. */
function ownerOf(g: CompiledGallery): Uint32Array {
  let owner = owners.get(g);
  if (!owner) {
    owner = new Uint32Array(g.images.length / g.descriptorSize);
    let row = 0;
    for (let p = 0; p < g.counts.length; p++) owner.fill(p, row, (row += g.counts[p]));
    owners.set(g, owner);
  }
  return owner;
}

/** Distance of each photo of a person with 2+ photos to the template of their other photos. */
function ownDistances(
  g: CompiledGallery,
  metric: DescriptorMetric,
): { rows: Uint32Array; distance: Float32Array } {
  const size = g.descriptorSize;
  const rows: number[] = [];
  const distance: number[] = [];
  const sum = new Float64Array(size);
  const rest = new Float32Array(size);
  let row = 0;
  for (const k of g.counts) {
    if (k >= 2) {
      sum.fill(0);
      for (let i = 0; i < k; i++) for (let j = 0; j < size; j++) sum[j] += g.images[(row + i) * size + j];
      for (let i = 0; i < k; i++) {
        const o = (row + i) * size;
        for (let j = 0; j < size; j++) rest[j] = (sum[j] - g.images[o + j]) / (k - 1);
        if (metric === 'cosine') toUnitLength(rest);
        let sq = 0;
        for (let j = 0; j < size; j++) sq += (rest[j] - g.images[o + j]) ** 2;
        rows.push(row + i);
        distance.push(fromSquared(metric, sq));
      }
    }
    row += k;
  }
  return { rows: Uint32Array.from(rows), distance: Float32Array.from(distance) };
}

export interface MeasureOptions {
  /** Photo rows always searched (the photos just enrolled), sample or not. */
  include?: Iterable<number>;
  maxSearches?: number;
  threads?: number;
}

/**
 * How close strangers come to this gallery, measured on the gallery itself: each enrolled photo
 * (an even sample of a large gallery, plus `include`) searched among the other people; and each
 * multi-photo person's photos against their others (what the threshold costs the enrolled).
 */
export async function measureStrangers(
  gallery: AnyGallery,
  descriptor: DescriptorKind,
  options: MeasureOptions = {},
): Promise<StrangerSample> {
  const g = compileGallery(gallery);
  const { metric } = DESCRIPTORS[descriptor];
  const size = g.descriptorSize;
  const n = g.names.length;
  const photos = g.images.length / size;
  const templates = templatesOf(g, metric);
  const owner = ownerOf(g);
  let chosen: number[] = [];
  if (n >= 2) {
    const max = options.maxSearches ?? MAX_STAND_IN_SEARCHES;
    const picked = new Set<number>(options.include ?? []);
    if (photos <= max) for (let r = 0; r < photos; r++) picked.add(r);
    else for (let i = 0; i < max; i++) picked.add(Math.floor((i * photos) / max));
    chosen = [...picked].filter((r) => r >= 0 && r < photos).sort((a, b) => a - b);
  }
  const queries = new Float32Array(chosen.length * size);
  chosen.forEach((r, i) => queries.set(g.images.subarray(r * size, (r + 1) * size), i * size));
  const found = await nearestRows(templates, queries, chosen.length, metric, {
    skip: (q) => [owner[chosen[q]], owner[chosen[q]] + 1],
    threads: options.threads,
  });
  const own = ownDistances(g, metric);
  return {
    metric,
    people: n,
    photos: n >= 2 ? photos : 0,
    photoRows: Uint32Array.from(chosen),
    nearestPerson: Uint32Array.from(found.index),
    distance: Float32Array.from(found.distance),
    ownRows: own.rows,
    ownDistance: own.distance,
  };
}

// --- the threshold -------------------------------------------------------------------------------

const fmt = (x: number) => x.toFixed(3);
const count = (x: number) => x.toLocaleString('en-US');
const percent = (x: number) => `${+(x * 100).toPrecision(2)}%`;
const oneIn = (x: number) => `1 in ${count(Math.round(1 / x))}`;

/**
 * The threshold for a gallery of `sample.people` people, aiming at `alpha` of stranger searches
 * named as someone, and why, in plain words.
 */
export function thresholdFromSample(sample: StrangerSample, config: DecisionConfig): ThresholdChoice {
  const { descriptor } = config;
  const alpha = config.strangerFalseAccept ?? DEFAULT_STRANGER_FALSE_ACCEPT;
  const pair = config.matchThreshold;
  const n = sample.people;
  const s = sample.distance.length;
  const own = (t: number) => {
    let within = 0;
    for (const d of sample.ownDistance) if (d <= t) within++;
    return { within, of: sample.ownDistance.length };
  };
  const ownWords = (t: number) => {
    const o = own(t);
    return o.of
      ? ` Enrolled photos against their own person's other photos: ${count(o.within)} of ${count(o.of)} within it` +
          (o.within < o.of ? ' (the others would be missed: see the photos listed above, if any).' : '.')
      : ' No one has two photos, so what it costs the enrolled cannot be measured here.';
  };
  if (n === 0)
    return {
      rule: 'empty',
      threshold: pair,
      pseudoStrangers: 0,
      reason: 'no one is enrolled: every face is Unknown.',
    };
  // Each of the N comparisons of a stranger's search may err with share p: N*p ~ alpha.
  const perComparison = 1 - (1 - alpha) ** (1 / n);
  const fromPairs = pairTailDistance(descriptor, perComparison);
  const aim = `aiming at ${percent(alpha)} of strangers (${oneIn(alpha)} searches) named as someone (FACEREC_STRANGER_FALSE_ACCEPT)`;
  const pairsWords =
    `two different people's faces come within ${fmt(fromPairs)} in ${oneIn(perComparison)} comparisons ` +
    `with ${descriptor} (measured on 359,100 pairs of 700 people), and a stranger is compared with ` +
    `${count(n)} ${n === 1 ? 'person' : 'people'}`;
  let threshold: number;
  let why: string;
  if (s < MIN_SAMPLE) {
    threshold = fromPairs;
    why =
      `${n === 1 ? 'one person is enrolled, so no photo can be searched as a stranger' : `only ${s} enrolled photos can be searched as strangers (among the other people), too few to measure`}: ` +
      `${pairsWords}.`;
  } else {
    // A stand-in meets N-1 people, a stranger N: the same per-comparison rate over N-1.
    const standInAlpha = 1 - (1 - alpha) ** ((n - 1) / n);
    let mean = 0;
    for (const d of sample.distance) mean += d / s;
    let v = 0;
    for (const d of sample.distance) v += (d - mean) ** 2 / s;
    const sd = Math.sqrt(v);
    const fromGallery = mean + normalQuantile(standInAlpha) * sd;
    const sampled = s < sample.photos ? ` (an even sample of its ${count(sample.photos)} photos)` : '';
    const galleryWords =
      `measured on this gallery: ${count(s)} enrolled photos${sampled}, each searched as a stranger ` +
      `among the other ${count(n - 1)} people, came within ${fmt(mean)} +/- ${fmt(sd)} of their nearest; ` +
      `at that spread ${oneIn(alpha)} strangers meeting all ${count(n)} people comes closer than ${fmt(fromGallery)}`;
    if (s >= FULL_SAMPLE) {
      threshold = fromGallery;
      why = `${galleryWords}.`;
    } else {
      threshold = Math.min(fromGallery, fromPairs);
      why =
        `${galleryWords}; with so few searches the tail is uncertain, so it is also held to what ` +
        `${pairsWords} (${fmt(fromPairs)}), and the stricter is taken.`;
    }
  }
  let bound = '';
  if (threshold > pair) {
    threshold = pair;
    bound = ` Capped at the ${descriptor} 1:1 threshold ${fmt(pair)}: a face is never named beyond what comparing two photos accepts.`;
  } else if (threshold < pair / 2) {
    threshold = pair / 2;
    bound =
      ` Raised to half the 1:1 threshold (${fmt(pair / 2)}): the people enrolled are unusually close to each ` +
      `other (the same person under two names? see the report above), and a stricter threshold would miss most of the enrolled.`;
  }
  return {
    rule: 'gallery-calibrated',
    threshold,
    strangerFalseAccept: alpha,
    pseudoStrangers: s,
    ownPass: own(threshold),
    reason: `${fmt(threshold)} (${sample.metric} distance), ${aim}. Why: ${why}${bound}${ownWords(threshold)}`,
  };
}

// --- preparing a gallery once, deciding many times ---------------------------------------------

interface Prepared {
  g: CompiledGallery;
  templates: RowMatrix;
  metric: DescriptorMetric;
  choice: ThresholdChoice;
}

const prepared = new WeakMap<CompiledGallery, Map<string, Promise<Prepared>>>();

const usesFixedThreshold = (config: DecisionConfig) => config.matchThresholdFixed || !config.openSetRule;

/** The stranger sample a gallery carries, if it was measured with this descriptor's metric on
 * this very gallery; else measured now (a JSON gallery, or a store written without one). */
async function strangerSampleOf(gallery: AnyGallery, config: DecisionConfig): Promise<StrangerSample> {
  const g = compileGallery(gallery);
  const stored = g.strangerSample;
  const { metric } = DESCRIPTORS[config.descriptor];
  if (stored && stored.metric === metric && stored.people === g.names.length) return stored;
  return measureStrangers(g, config.descriptor, { threads: config.onnxThreads });
}

function preparedFor(gallery: AnyGallery, config: DecisionConfig): Promise<Prepared> {
  const g = compileGallery(gallery);
  const key = `${config.descriptor}\n${config.matchThreshold}\n${config.strangerFalseAccept ?? ''}`;
  let byConfig = prepared.get(g);
  if (!byConfig) prepared.set(g, (byConfig = new Map()));
  let p = byConfig.get(key);
  if (!p) {
    const { metric } = DESCRIPTORS[config.descriptor];
    p = strangerSampleOf(g, config).then((sample) => ({
      g,
      metric,
      templates: templatesOf(g, metric),
      choice: thresholdFromSample(sample, config),
    }));
    byConfig.set(key, p);
    p.catch(() => byConfig.delete(key));
  }
  return p;
}

/** The threshold identification will use with this gallery, and why. */
export async function chooseThreshold(gallery: AnyGallery, config: DecisionConfig): Promise<ThresholdChoice> {
  if (usesFixedThreshold(config)) {
    return {
      rule: 'fixed',
      threshold: config.matchThreshold,
      pseudoStrangers: 0,
      reason: config.matchThresholdFixed
        ? `${config.matchThreshold}: fixed by FACEREC_MATCH_THRESHOLD or --threshold (nearest enrolled photo)`
        : `${config.matchThreshold}: the 1:1 threshold, FACEREC_OPEN_SET_RULE is off (nearest enrolled photo)`,
    };
  }
  return (await preparedFor(gallery, config)).choice;
}

/** Names face descriptors from the gallery (one matrix product for all): a person, or Unknown. */
export async function decideIdentities(
  gallery: AnyGallery,
  descriptors: readonly ArrayLike<number>[],
  config: DecisionConfig,
): Promise<Match[]> {
  if (descriptors.length === 0) return [];
  const { metric } = DESCRIPTORS[config.descriptor];
  const g = compileGallery(gallery);
  if (usesFixedThreshold(config)) {
    const photos = {
      data: g.images,
      rows: g.images.length / g.descriptorSize,
      size: g.descriptorSize,
      norms: g.imageNorms,
    };
    return matchRows(
      photos,
      ownerOf(g),
      g.names,
      descriptors,
      config.matchThreshold,
      metric,
      config.onnxThreads,
    );
  }
  if (g.names.length === 0) return descriptors.map(() => ({ name: UNKNOWN, distance: null, nearest: null }));
  const p = await preparedFor(g, config);
  // Template rows are people: no owner map.
  return matchRows(
    p.templates,
    undefined,
    g.names,
    descriptors,
    p.choice.threshold,
    metric,
    config.onnxThreads,
  );
}

/** decideIdentities for one face. */
export async function decideIdentity(
  gallery: AnyGallery,
  descriptor: ArrayLike<number>,
  config: DecisionConfig,
): Promise<Match> {
  return (await decideIdentities(gallery, [descriptor], config))[0];
}
