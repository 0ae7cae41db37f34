/**
 * The 1:N decision: who, among the enrolled people, is this face, if anyone. Measured lever by
 * lever on open-set data in docs/benchmarks.md ("Face engine: open set"); what is kept:
 *
 * - per-person templates: a face is compared with each person's template (the mean of their
 *   enrolled descriptors, re-normalised for a cosine descriptor), not with every photo;
 * - a threshold calibrated on the gallery itself, so that it accounts for how many people are
 *   enrolled and how spread their photos are: every enrolled photo is searched, as a stranger
 *   would be, among the OTHER people's templates, and so is every face of the cohort of
 *   non-enrolled faces the gallery carries (faces of the demo photos an npm dependency ships,
 *   stored at enrollment). Their nearest distances are what a stranger gets from this gallery;
 *   the threshold is where a normal fit of them expects 0.1% of strangers to fall, and never
 *   above the descriptor's 1:1 threshold (nor under half of it). Only where most people have 2+
 *   photos: with one photo per person nothing measures what a stricter threshold costs the
 *   enrolled themselves, and the 1:1 threshold stays.
 *
 * Measured and not kept: score normalisation (Z-norm per enrolled person, T-norm per probe, with
 * or without the cohort), a margin over the second-nearest person. With a fixed threshold
 * (FACEREC_MATCH_THRESHOLD, --threshold) or FACEREC_OPEN_SET_RULE=false, the decision is the
 * one before this module: nearest enrolled photo within that threshold.
 */
import type { EngineConfig } from '../../config.js';
import type { Gallery } from '../gallery.js';
import { DESCRIPTORS, toUnitLength, type DescriptorMetric } from './describe.js';
import { fromSquared, matchDescriptor, type Match } from './match.js';
import { UNKNOWN } from './types.js';

export type DecisionConfig = Pick<
  EngineConfig,
  'descriptor' | 'matchThreshold' | 'matchThresholdFixed' | 'openSetRule'
>;

/** Expected share of strangers accepted that the calibrated threshold aims at (normal fit). */
export const CALIBRATION_FALSE_ACCEPT = 0.001;
/** Standard normal quantile of CALIBRATION_FALSE_ACCEPT. */
const Z = -3.0902323061678132;
/** Fewer pseudo-strangers than this give no calibration: the 1:1 threshold is used. */
const MIN_PSEUDO_STRANGERS = 8;

export interface ThresholdChoice {
  rule: 'gallery-calibrated' | 'fixed';
  threshold: number;
  /** One line saying where the threshold comes from. */
  reason: string;
  /** Nearest-template distances of the searches that stood in for strangers. */
  pseudoStrangers: number;
}

interface Prepared {
  names: string[];
  templates: Float32Array;
  size: number;
  metric: DescriptorMetric;
  choice: ThresholdChoice;
}

const prepared = new WeakMap<Gallery, Map<string, Prepared>>();

function squared(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, size: number) {
  let sum = 0;
  for (let j = 0; j < size; j++) {
    const d = a[ao + j] - b[bo + j];
    sum += d * d;
  }
  return sum;
}

/** Each person's template: the mean of their descriptors (unit length again for cosine). */
function templatesOf(gallery: Gallery, metric: DescriptorMetric): Float32Array {
  const size = gallery.descriptorSize;
  const out = new Float32Array(gallery.people.length * size);
  gallery.people.forEach((p, i) => {
    const o = i * size;
    for (const img of p.images)
      for (let j = 0; j < size; j++) out[o + j] += img.descriptor[j] / p.images.length;
    if (metric === 'cosine') toUnitLength(out.subarray(o, o + size));
  });
  return out;
}

/** Nearest template (skipping `skip`): index and distance. */
function nearestTemplate(
  templates: Float32Array,
  count: number,
  size: number,
  metric: DescriptorMetric,
  descriptor: ArrayLike<number>,
  skip = -1,
): { index: number; distance: number } {
  let best = Infinity;
  let index = -1;
  for (let i = 0; i < count; i++) {
    if (i === skip) continue;
    const s = squared(templates, i * size, descriptor, 0, size);
    if (s < best) {
      best = s;
      index = i;
    }
  }
  return { index, distance: index < 0 ? Infinity : fromSquared(metric, best) };
}

function prepare(gallery: Gallery, config: DecisionConfig): Prepared {
  const spec = DESCRIPTORS[config.descriptor];
  const { metric } = spec;
  const size = gallery.descriptorSize;
  const names = gallery.people.map((p) => p.name);
  const templates = templatesOf(gallery, metric);
  const n = names.length;
  const pair = config.matchThreshold;

  // Strangers stood in for by each enrolled photo among the other people, and by the cohort.
  const scores: number[] = [];
  gallery.people.forEach((p, i) => {
    for (const img of p.images)
      scores.push(nearestTemplate(templates, n, size, metric, img.descriptor, i).distance);
  });
  const fromGallery = scores.length;
  let cohortUsed = 0;
  for (const c of gallery.cohort?.descriptors ?? []) {
    // A cohort face that is an enrolled person's own photo (the demo galleries enroll the demo
    // photos' people) is not a stranger.
    const duplicate = gallery.people.some((p) =>
      p.images.some((img) => fromSquared(metric, squared(img.descriptor, 0, c, 0, size)) < pair / 2),
    );
    if (duplicate) continue;
    scores.push(nearestTemplate(templates, n, size, metric, c).distance);
    cohortUsed++;
  }
  const finite = scores.filter(Number.isFinite);
  const fmt = (x: number) => x.toFixed(3);
  const withSeveral = gallery.people.filter((p) => p.images.length >= 2).length;
  let choice: ThresholdChoice;
  if (withSeveral * 2 < n) {
    // One photo per person: nothing says how far a person's own photos spread, so nothing says
    // what a stricter threshold would cost them (the pipeline benchmark's gallery of one crop
    // per person lost 24 of 100 videos to it). The 1:1 threshold, as before.
    choice = {
      rule: 'gallery-calibrated',
      threshold: pair,
      pseudoStrangers: finite.length,
      reason:
        `${fmt(pair)}: the ${config.descriptor} 1:1 threshold; most people have one photo, so how far a ` +
        `person's own photos spread cannot be measured (enroll 2+ photos per person to calibrate)`,
    };
  } else if (finite.length < MIN_PSEUDO_STRANGERS) {
    choice = {
      rule: 'gallery-calibrated',
      threshold: pair,
      pseudoStrangers: finite.length,
      reason:
        `${fmt(pair)}: the ${config.descriptor} 1:1 threshold; ${finite.length} stand-in stranger searches ` +
        `(${n} people, ${cohortUsed} cohort faces) are too few to calibrate on (need ${MIN_PSEUDO_STRANGERS})`,
    };
  } else {
    const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
    const sd = Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / finite.length);
    const fitted = mean + Z * sd;
    const threshold = Math.min(pair, Math.max(pair / 2, fitted));
    const bound =
      threshold === pair
        ? `, capped at the ${config.descriptor} 1:1 threshold ${fmt(pair)}`
        : threshold === pair / 2
          ? `, raised to half the 1:1 threshold`
          : ` (1:1 threshold ${fmt(pair)})`;
    // What it costs the enrolled: each photo against its own person's other photos' template.
    let own = 0;
    let ownAccepted = 0;
    gallery.people.forEach((p) => {
      if (p.images.length < 2) return;
      for (const [k, img] of p.images.entries()) {
        const rest = p.images.filter((_, j) => j !== k);
        const t = templatesOf({ ...gallery, people: [{ name: p.name, images: rest }] }, metric);
        own++;
        if (fromSquared(metric, squared(t, 0, img.descriptor, 0, size)) <= threshold) ownAccepted++;
      }
    });
    choice = {
      rule: 'gallery-calibrated',
      threshold,
      pseudoStrangers: finite.length,
      reason:
        `${fmt(threshold)}: calibrated on this gallery: ${finite.length} stand-in stranger searches ` +
        `(${fromGallery} enrolled photos among the other ${n - 1} people, ${cohortUsed} cohort faces) ` +
        `have nearest-person distances ${fmt(mean)} +/- ${fmt(sd)}; a normal fit expects ` +
        `${CALIBRATION_FALSE_ACCEPT * 100}% of strangers under ${fmt(fitted)}${bound}; ` +
        `${ownAccepted}/${own} enrolled photos pass against their own person's other photos`,
    };
  }
  return { names, templates, size, metric, choice };
}

function preparedFor(gallery: Gallery, config: DecisionConfig): Prepared {
  const key = `${config.descriptor}\n${config.matchThreshold}`;
  let byConfig = prepared.get(gallery);
  if (!byConfig) prepared.set(gallery, (byConfig = new Map()));
  let p = byConfig.get(key);
  if (!p) byConfig.set(key, (p = prepare(gallery, config)));
  return p;
}

const usesFixedThreshold = (config: DecisionConfig) => config.matchThresholdFixed || !config.openSetRule;

/** The threshold identification will use with this gallery, and why. */
export function chooseThreshold(gallery: Gallery, config: DecisionConfig): ThresholdChoice {
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
  return preparedFor(gallery, config).choice;
}

/** Names one face descriptor from the gallery: a person, or Unknown. */
export function decideIdentity(
  gallery: Gallery,
  descriptor: ArrayLike<number>,
  config: DecisionConfig,
): Match {
  const { metric } = DESCRIPTORS[config.descriptor];
  if (usesFixedThreshold(config)) return matchDescriptor(gallery, descriptor, config.matchThreshold, metric);
  const p = preparedFor(gallery, config);
  const { index, distance } = nearestTemplate(p.templates, p.names.length, p.size, metric, descriptor);
  if (index < 0) return { name: UNKNOWN, distance: null, nearest: null };
  const nearest = p.names[index];
  return { name: distance <= p.choice.threshold ? nearest : UNKNOWN, distance, nearest };
}
