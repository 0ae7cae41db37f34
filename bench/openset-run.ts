/**
 * Open-set identification benchmark: `npm run bench:openset -- <folder> [--json]`.
 *
 * <folder> is laid out like ../shared/data/openset: `gallery/<name>/*` (enrolled with
 * `facerec enroll`'s code), `probe-known/<name>/*` (each should be named <name>) and
 * `probe-strangers/<name>/*` (people not enrolled: each should come out Unknown). Every probe's
 * main face is identified with the engine's default decision; the figures are the identification
 * rate and stranger false-accept rate at the default settings, and the curve: identification at
 * the threshold that accepts at most 1% / 0.1% of the strangers. Probes without a usable face
 * count as errors (never dropped); coverage is printed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineConfig } from '../functions/config.js';
import { createFaceEngine, type FaceEngine } from '../functions/core/faces/engine.js';
import { enrollPeople, pickMainFace } from '../cli/lib/enroll.js';
import { chooseThreshold, decideIdentity, type ThresholdChoice } from '../functions/core/faces/open-set.js';
import { readCohortPhotos } from '../cli/lib/cohort.js';
import type { Gallery } from '../functions/core/gallery.js';
import { listPeopleFolder, readEnrollImages } from '../cli/lib/people-folder.js';
import { openSetFigures, type OpenSetFigures, type ProbeOutcome } from './openset-metrics.js';

interface Probe {
  file: string;
  truth: string;
  known: boolean;
}

async function listProbes(folder: string): Promise<Probe[]> {
  const probes: Probe[] = [];
  for (const [sub, known] of [
    ['probe-known', true],
    ['probe-strangers', false],
  ] as const) {
    for (const p of await listPeopleFolder(path.join(folder, sub)))
      for (const file of p.files) probes.push({ file, truth: p.name, known });
  }
  return probes;
}

async function identifyProbe(engine: FaceEngine, gallery: Gallery, probe: Probe): Promise<ProbeOutcome> {
  const base = { truth: probe.truth, known: probe.known };
  let pick;
  try {
    const analysis = await engine.analyzeFaces(await readFile(probe.file));
    pick = pickMainFace(analysis.faces, analysis.width, analysis.height);
  } catch {
    return { ...base, usable: false, nearest: null, score: null, decided: 'Unknown' };
  }
  if (!pick.face) return { ...base, usable: false, nearest: null, score: null, decided: 'Unknown' };
  const match = decideIdentity(gallery, pick.face.descriptor, engine.config);
  return { ...base, usable: true, nearest: match.nearest, score: match.distance, decided: match.name };
}

export interface OpenSetReport extends OpenSetFigures {
  folder: string;
  modelId: string;
  threshold: ThresholdChoice;
  gallery: { people: number; images: number; skipped: number };
  noFace: string[];
}

export async function runOpenSet(
  folder: string,
  config: EngineConfig,
  progress: (done: number, total: number) => void = () => {},
): Promise<OpenSetReport> {
  const engine = await createFaceEngine(config);
  const people = await listPeopleFolder(path.join(folder, 'gallery'));
  const images = await readEnrollImages(people, {
    label: (file) => path.relative(path.join(folder, 'gallery'), file),
  });
  const { gallery, report } = await enrollPeople(engine, images, undefined, await readCohortPhotos());
  const probes = await listProbes(folder);
  const outcomes: ProbeOutcome[] = [];
  const noFace: string[] = [];
  for (const probe of probes) {
    const outcome = await identifyProbe(engine, gallery, probe);
    if (!outcome.usable) noFace.push(path.relative(folder, probe.file));
    outcomes.push(outcome);
    progress(outcomes.length, probes.length);
  }
  return {
    folder,
    modelId: engine.modelId,
    threshold: chooseThreshold(gallery, engine.config),
    gallery: {
      people: gallery.people.length,
      images: gallery.people.reduce((n, p) => n + p.images.length, 0),
      skipped: report.skipped.length,
    },
    noFace,
    ...openSetFigures(outcomes),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatOpenSet(r: OpenSetReport): string[] {
  return [
    `model ${r.modelId}`,
    `threshold (${r.threshold.rule}) ${r.threshold.reason}`,
    `gallery: ${r.gallery.people} people, ${r.gallery.images} images enrolled, ${r.gallery.skipped} skipped`,
    `coverage: known probes ${r.known.usable}/${r.known.total} with a usable face, strangers ${r.strangers.usable}/${r.strangers.total}`,
    `default settings: known named right ${r.known.namedRight}/${r.known.total} (${pct(r.identificationRate)}), ` +
      `named wrong ${r.known.namedWrong}, Unknown ${r.known.unknown}; ` +
      `strangers accepted ${r.strangers.accepted}/${r.strangers.total} (${pct(r.strangerFalseAcceptRate)})`,
    `rank-1 (nearest person right, no threshold): ${pct(r.rank1)}`,
    ...r.curve.map(
      (c) =>
        `at stranger false-accept <= ${pct(c.targetFar)}: identification ${pct(c.identificationRate)} ` +
        `(threshold ${c.threshold.toFixed(4)}, false-accept ${pct(c.far)})`,
    ),
    ...r.noFace.map((f) => `  ! no usable face: ${f}`),
  ];
}
