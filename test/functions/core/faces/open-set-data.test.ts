/**
 * bench:openset on a small fixture made from @vladmandic/face-api's demo photos (always
 * installed): 4 enrolled people (a tight crop each), their known probes (a wider, differently
 * sized crop of the same face), the other demo people as strangers, and one stranger image with
 * no face at all, which must be counted (coverage), never dropped.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import { around, demoPeople, personFrame, type Person } from '#cli/lib/demo-data.js';
import { background } from '#bench/face-frames.js';
import {
  formatOpenSet,
  runOpenSet,
  stepsFor,
  type OpenSetReport,
  type OpenSetStep,
} from '#bench/openset-run.js';
import { curvePoint, openSetFigures, type ProbeOutcome } from '#bench/openset-metrics.js';

const config = loadConfig({}).engine;
let dir: string;
let report: OpenSetReport;
let step: OpenSetStep;
let people: Person[];
const ENROLLED = 4;

async function tightCrop(p: Person): Promise<Buffer> {
  const r = around(p.box, 1.6, p.width, p.height);
  return sharp(p.photo).rotate().extract(r).jpeg({ quality: 92 }).toBuffer();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'openset-'));
  const engine = await createFaceEngine(config);
  people = await demoPeople(engine);
  // One enrolled person per photo among the first four photos; every other face is a stranger.
  const enrolled = [1, 2, 3, 4].map((i) => people.find((p) => p.name === `sample${i}-face1`)!);
  const strangers = people.filter((p) => !enrolled.includes(p)).slice(0, 8);
  const put = async (sub: string, name: string, file: string, bytes: Buffer) => {
    await mkdir(path.join(dir, sub, name), { recursive: true });
    await writeFile(path.join(dir, sub, name, file), bytes);
  };
  for (const p of enrolled) {
    await put('gallery', p.name, '1.jpg', await tightCrop(p));
    await put(
      'probe-known',
      p.name,
      '1.png',
      await personFrame(p, people, { factor: 2.4, width: 400, height: 400 }),
    );
  }
  for (const p of strangers)
    await put(
      'probe-strangers',
      p.name,
      '1.png',
      await personFrame(p, people, { factor: 2.4, width: 400, height: 400 }),
    );
  await put('probe-strangers', 'nobody', 'wall.png', await background(400, 400, 3));
  report = await runOpenSet(dir, config);
  step = report.steps[0];
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('bench:openset on demo-photo fixture', () => {
  it('enrolls the gallery and counts every probe, the faceless one as an error', () => {
    expect(report.enrollment).toEqual({ images: ENROLLED, skipped: 0, skippedFiles: [] });
    // no distractors in this folder: one step, the whole gallery
    expect(report.steps.map((s) => s.distractors)).toEqual([0]);
    expect(step.gallery).toEqual({ people: ENROLLED, images: ENROLLED });
    expect(step.known.total).toBe(ENROLLED);
    expect(step.strangers.total).toBe(9);
    expect(step.strangers.usable).toBe(8);
    expect(report.noFace).toEqual([path.join('probe-strangers', 'nobody', 'wall.png')]);
    // the faceless stranger cannot be shown to be rejected: it counts as a false accept
    expect(step.strangers.accepted).toBeGreaterThanOrEqual(1);
  });

  it('names the known probes, reports the curve and prints coverage', () => {
    expect(step.known.namedRight).toBe(ENROLLED);
    expect(step.identificationRate).toBe(1);
    expect(step.rank1).toBe(1);
    expect(step.curve.map((c) => c.targetFar)).toEqual([0.01, 0.001]);
    // 1% of 9 strangers allows none, and the faceless one is always accepted
    for (const c of step.curve) expect(c.identificationRate).toBe(0);
    expect(JSON.parse(JSON.stringify(report)).steps[0].known.total).toBe(ENROLLED);
    const text = formatOpenSet(report).join('\n');
    expect(text).toMatch(/coverage: known probes 4\/4 with a usable face, strangers 8\/9/);
    expect(text).toMatch(/no usable face: probe-strangers\/nobody\/wall.png/);
  });
});

describe('the steps the gallery grows in', () => {
  it('takes the wanted sizes there are distractors for, and always all of them', () => {
    expect(stepsFor([0, 250, 500, 1000], 1000)).toEqual([0, 250, 500, 1000]);
    expect(stepsFor([0, 250, 500, 1000], 300)).toEqual([0, 250, 300]);
    expect(stepsFor([0, 250, 500, 1000], 0)).toEqual([0]);
  });
});

describe('open-set figures', () => {
  const known = (truth: string, nearest: string, score: number): ProbeOutcome => ({
    truth,
    known: true,
    usable: true,
    nearest,
    score,
    decided: score <= 0.5 ? nearest : 'Unknown',
  });
  const stranger = (score: number | null): ProbeOutcome => ({
    truth: 'x',
    known: false,
    usable: score !== null,
    nearest: score === null ? null : 'a',
    score,
    decided: score !== null && score <= 0.5 ? 'a' : 'Unknown',
  });

  it('picks the threshold from the strangers and counts only right names', () => {
    const strangers = [0.3, 0.6, 0.7, 0.8].map(stranger);
    const knowns = [known('a', 'a', 0.2), known('b', 'b', 0.45), known('c', 'a', 0.1)];
    // 25% allows one stranger: threshold just under 0.6
    const p = curvePoint(knowns, strangers, 0.25);
    expect(p.far).toBe(0.25);
    expect(p.threshold).toBeCloseTo(0.6, 6);
    expect(p.identificationRate).toBeCloseTo(2 / 3);
    // 0% allows none: threshold under 0.3
    expect(curvePoint(knowns, strangers, 0).identificationRate).toBeCloseTo(1 / 3);
    const f = openSetFigures([...knowns, ...strangers, stranger(null)]);
    expect(f.strangers).toEqual({ total: 5, usable: 4, accepted: 2 });
    expect(f.known).toEqual({ total: 3, usable: 3, namedRight: 2, namedWrong: 1, unknown: 0 });
  });
});
