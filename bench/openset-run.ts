/**
 * Open-set identification benchmark: `npm run bench:openset -- <folder> [--steps 0,250,500,1000] [--json]`.
 *
 * <folder> is laid out like ../shared/data/openset(-large): `gallery/<name>/*` (enrolled with
 * `facerec enroll`'s code), `probe-known/<name>/*` (each should be named <name>) and
 * `probe-strangers/<name>/*` (people not enrolled: each should come out Unknown). Every image is
 * described once; the gallery is then grown in steps: the probed people alone, then with 250,
 * 500, 1,000 of the enrolled people nobody probes (distractors, in a fixed pseudo-random order),
 * and at each step every probe's main face is named with the engine's default decision (its
 * threshold calibrated on that gallery). Figures per step: known named right / wrong / Unknown,
 * strangers accepted, and the curve: identification at the threshold that accepts at most 1% /
 * 0.1% of the strangers. Probes without a usable face count as errors (never dropped); coverage
 * is printed.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineConfig } from '../functions/config.js';
import { createFaceEngine } from '../functions/core/faces/engine.js';
import { enrollPeople, pickMainFace } from '../functions/core/gallery/enroll.js';
import { chooseThreshold, decideIdentities, type ThresholdChoice } from '../functions/core/faces/open-set.js';
import type { Gallery } from '../functions/core/gallery/read.js';
import { listPeopleFolder, readEnrollImages } from '../cli/lib/people-folder.js';
import { openSetFigures, type OpenSetFigures, type ProbeOutcome } from './openset-metrics.js';

interface Probe {
  file: string;
  truth: string;
  known: boolean;
  /** The main face's descriptor; null without a usable face. */
  descriptor: Float32Array | null;
}

export const DEFAULT_STEPS = [0, 250, 500, 1000];

async function describeProbes(
  folder: string,
  describe: (bytes: Uint8Array) => Promise<Float32Array | null>,
  progress: (done: number, total: number) => void,
): Promise<Probe[]> {
  const listed: Array<Omit<Probe, 'descriptor'>> = [];
  for (const [sub, known] of [
    ['probe-known', true],
    ['probe-strangers', false],
  ] as const) {
    for (const p of await listPeopleFolder(path.join(folder, sub)))
      for (const file of p.files) listed.push({ file, truth: p.name, known });
  }
  const probes: Probe[] = [];
  for (const probe of listed) {
    let descriptor: Float32Array | null;
    try {
      descriptor = await describe(await readFile(probe.file));
    } catch {
      descriptor = null;
    }
    probes.push({ ...probe, descriptor });
    progress(probes.length, listed.length);
  }
  return probes;
}

export interface OpenSetStep extends OpenSetFigures {
  /** Distractors enrolled at this step (people nobody probes). */
  distractors: number;
  threshold: ThresholdChoice;
  gallery: { people: number; images: number };
}

export interface OpenSetReport {
  folder: string;
  modelId: string;
  /** Gallery photos enrolled / skipped (no usable face), over the whole folder. */
  enrollment: { images: number; skipped: number; skippedFiles: string[] };
  steps: OpenSetStep[];
  noFace: string[];
}

/** People nobody probes, in a fixed order that does not follow the alphabet. */
function distractorOrder(names: string[]): string[] {
  const key = (n: string) => createHash('sha256').update(n).digest('hex');
  return [...names].sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/** The steps to run: `wanted` within the distractors there are, and always all of them. */
export function stepsFor(wanted: number[], available: number): number[] {
  const steps = new Set(wanted.filter((k) => k <= available));
  steps.add(available);
  return [...steps].sort((a, b) => a - b);
}

export async function runOpenSet(
  folder: string,
  config: EngineConfig,
  options: { steps?: number[]; progress?: (what: string, done: number, total: number) => void } = {},
): Promise<OpenSetReport> {
  const progress = options.progress ?? (() => {});
  const engine = await createFaceEngine(config);
  const people = await listPeopleFolder(path.join(folder, 'gallery'));
  const images = readEnrollImages(people, {
    label: (file) => path.relative(path.join(folder, 'gallery'), file),
  });
  const { gallery, report } = await enrollPeople(engine, images, undefined, {
    progress: (done, total) => progress('gallery photos', done, total),
  });
  const probes = await describeProbes(
    folder,
    async (bytes) => {
      const analysis = await engine.analyzeFaces(bytes);
      return pickMainFace(analysis.faces, analysis.width, analysis.height).face?.descriptor ?? null;
    },
    (done, total) => progress('probes', done, total),
  );
  const probed = new Set(probes.filter((p) => p.known).map((p) => p.truth));
  const distractors = distractorOrder(gallery.people.map((p) => p.name).filter((n) => !probed.has(n)));
  const steps: OpenSetStep[] = [];
  for (const k of stepsFor(options.steps ?? DEFAULT_STEPS, distractors.length)) {
    const chosen = new Set([...probed, ...distractors.slice(0, k)]);
    const sub: Gallery = { ...gallery, people: gallery.people.filter((p) => chosen.has(p.name)) };
    const usable = probes.filter((p) => p.descriptor);
    const matches = await decideIdentities(
      sub,
      usable.map((p) => p.descriptor!),
      engine.config,
    );
    const byProbe = new Map(usable.map((p, i) => [p, matches[i]]));
    const outcomes: ProbeOutcome[] = probes.map((p) => {
      const m = byProbe.get(p);
      return m
        ? {
            truth: p.truth,
            known: p.known,
            usable: true,
            nearest: m.nearest,
            score: m.distance,
            decided: m.name,
          }
        : { truth: p.truth, known: p.known, usable: false, nearest: null, score: null, decided: 'Unknown' };
    });
    steps.push({
      distractors: k,
      threshold: await chooseThreshold(sub, engine.config),
      gallery: { people: sub.people.length, images: sub.people.reduce((n, p) => n + p.images.length, 0) },
      ...openSetFigures(outcomes),
    });
  }
  return {
    folder,
    modelId: engine.modelId,
    enrollment: {
      images: images.length,
      skipped: report.skipped.length,
      skippedFiles: report.skipped.map((s) => `${s.person}/${path.basename(s.file)}: ${s.reason}`),
    },
    steps,
    noFace: probes.filter((p) => !p.descriptor).map((p) => path.relative(folder, p.file)),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatOpenSet(r: OpenSetReport): string[] {
  const last = r.steps[r.steps.length - 1];
  const lines = [
    `model ${r.modelId}`,
    `enrolment: ${r.enrollment.images - r.enrollment.skipped}/${r.enrollment.images} gallery photos with a usable face`,
    ...r.enrollment.skippedFiles.map((f) => `  ! not enrolled: ${f}`),
    `coverage: known probes ${last.known.usable}/${last.known.total} with a usable face, strangers ${last.strangers.usable}/${last.strangers.total}` +
      ' (a probe without one counts as an error: known not named, stranger accepted)',
    '',
    '| distractors | people | threshold | known named right | named wrong | Unknown | strangers accepted | rank-1 | ident. at FAR 1% | ident. at FAR 0.1% |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.steps.map((s) => {
      const at = (far: number) => s.curve.find((c) => c.targetFar === far)!;
      return (
        `| ${s.distractors} | ${s.gallery.people} | ${s.threshold.threshold.toFixed(3)} | ` +
        `${s.known.namedRight}/${s.known.total} (${pct(s.identificationRate)}) | ${s.known.namedWrong} | ${s.known.unknown} | ` +
        `${s.strangers.accepted}/${s.strangers.total} (${pct(s.strangerFalseAcceptRate)}) | ${pct(s.rank1)} | ` +
        `${pct(at(0.01).identificationRate)} | ${pct(at(0.001).identificationRate)} |`
      );
    }),
    '',
    ...r.steps.map(
      (s) => `threshold at ${s.distractors} distractors (${s.threshold.rule}): ${s.threshold.reason}`,
    ),
    ...r.noFace.map((f) => `  ! no usable face: ${f}`),
  ];
  return lines;
}
