/** `facerec compare <reference> <images or folders...>`: is the reference's person in the other images? */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { pickMainFace } from '../lib/enroll.js';
import { descriptorDistance, DESCRIPTORS } from '../../functions/core/faces/describe.js';
import type { FaceEngine } from '../../functions/core/faces/engine.js';
import { openEngine, withEngineOptions, type EngineFlags } from '../lib/engine-options.js';
import { expandImagePaths } from '../lib/image-paths.js';

interface CompareFlags extends EngineFlags {
  json?: boolean;
}

/** The face a single-face task means: the dominant one, else the one nearest the centre (noted). */
async function mainFace(engine: FaceEngine, file: string) {
  try {
    const analysis = await engine.analyzeFaces(await readFile(file));
    const pick = pickMainFace(analysis.faces, analysis.width, analysis.height);
    return pick.face ? { face: pick.face, note: pick.note } : { error: pick.reason };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The main face of `reference` against the main face of each other image, one line each. Exit
 * 2 when the reference has no usable face, 1 when some other image has none, else 0. */
export async function runCompare(reference: string, others: string[], flags: CompareFlags): Promise<number> {
  const { files, missing } = await expandImagePaths(others);
  if (files.length === 0 && missing.length === 0) {
    console.error(`no image to compare with in ${others.join(', ')}`);
    return 2;
  }
  const engine = await openEngine(flags);
  const ref = await mainFace(engine, reference);
  if (!ref.face) {
    console.error(`${reference}: ${ref.error}`);
    return 2;
  }
  const threshold = engine.config.matchThreshold;
  const metric = DESCRIPTORS[engine.config.descriptor].metric;
  if (ref.note && !flags.json) console.log(`${reference}: ${ref.note}`);
  let failed = missing.length;
  for (const m of missing) {
    if (flags.json) console.log(JSON.stringify({ a: reference, b: m.path, error: m.error }));
    else console.error(`${m.path}: ${m.error}`);
  }
  const many = files.length > 1;
  for (const file of files) {
    const other = await mainFace(engine, file);
    if (!other.face) {
      failed++;
      if (flags.json) console.log(JSON.stringify({ a: reference, b: file, error: other.error }));
      else console.error(`${file}: ${other.error}`);
      continue;
    }
    const distance = descriptorDistance(metric, ref.face.descriptor, other.face.descriptor);
    const same = distance <= threshold;
    const notes = [ref.note && `${reference}: ${ref.note}`, other.note && `${file}: ${other.note}`].filter(
      (n): n is string => !!n,
    );
    if (flags.json) console.log(JSON.stringify({ a: reference, b: file, distance, threshold, same, notes }));
    else {
      if (other.note) console.log(`${file}: ${other.note}`);
      console.log(
        `${many ? `${file}: ` : ''}distance ${distance.toFixed(4)} (threshold ${threshold}): ${same ? 'same person' : 'different people'}`,
      );
    }
  }
  return failed ? (many || missing.length ? 1 : 2) : 0;
}

export function registerCompare(program: Command): void {
  withEngineOptions(
    program
      .command('compare')
      .description('compare the main face of a reference image with the main face of other images')
      .argument('<reference>', 'the reference image')
      .argument('<images...>', 'images, or folders of images (sub-folders included)')
      .option('--json', 'one JSON object per comparison'),
  ).action(async (reference: string, images: string[], flags: CompareFlags) => {
    process.exitCode = await runCompare(reference, images, flags);
  });
}
