/** `facerec compare <reference> <images or folders...>`: is the reference's person in the other images? */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { pickMainFace } from '../../functions/core/gallery/enroll.js';
import { descriptorDistance } from '../../functions/core/faces/describe.js';
import { DESCRIPTORS } from '../../functions/core/faces/descriptors/registry.js';
import type { FaceEngine } from '../../functions/core/faces/engine.js';
import { openEngine, withEngineOptions, type EngineFlags } from '../lib/engine-options.js';
import { expandImagePaths } from '../lib/image-paths.js';
import { describeError, EXIT } from '../lib/errors.js';
import { printable } from '../../functions/core/printable.js';

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
    return { error: describeError(err) };
  }
}

/** The main face of `reference` against the main face of each other image, one line each. Exit
 * (cli/lib/errors.ts) 2 when there is nothing to compare (the reference or every other path is
 * missing), 1 when the reference or some other image has no usable face, else 0. */
async function runCompare(reference: string, others: string[], flags: CompareFlags): Promise<number> {
  const { files, missing } = await expandImagePaths(others);
  if (!existsSync(reference)) {
    console.error(printable(`${reference}: no such file`));
    return EXIT.usage;
  }
  if (files.length === 0) {
    for (const m of missing) console.error(printable(`${m.path}: ${m.error}`));
    console.error(printable(`no image to compare with in ${others.join(', ')}`));
    return EXIT.usage;
  }
  const engine = await openEngine(flags);
  const ref = await mainFace(engine, reference);
  if (!ref.face) {
    console.error(printable(`${reference}: ${ref.error}`));
    return EXIT.failed;
  }
  const threshold = engine.config.matchThreshold;
  const metric = DESCRIPTORS[engine.config.descriptor].metric;
  if (ref.note && !flags.json) console.log(printable(`${reference}: ${ref.note}`));
  let failed = missing.length;
  for (const m of missing) {
    if (flags.json) console.log(JSON.stringify({ a: reference, b: m.path, error: m.error }));
    else console.error(printable(`${m.path}: ${m.error}`));
  }
  const many = files.length > 1;
  for (const file of files) {
    const other = await mainFace(engine, file);
    if (!other.face) {
      failed++;
      if (flags.json) console.log(JSON.stringify({ a: reference, b: file, error: other.error }));
      else console.error(printable(`${file}: ${other.error}`));
      continue;
    }
    const distance = descriptorDistance(metric, ref.face.descriptor, other.face.descriptor);
    const same = distance <= threshold;
    const notes = [ref.note && `${reference}: ${ref.note}`, other.note && `${file}: ${other.note}`].filter(
      (n): n is string => !!n,
    );
    if (flags.json) console.log(JSON.stringify({ a: reference, b: file, distance, threshold, same, notes }));
    else {
      if (other.note) console.log(printable(`${file}: ${other.note}`));
      console.log(
        printable(
          `${many ? `${file}: ` : ''}distance ${distance.toFixed(4)} (threshold ${threshold}): ${same ? 'same person' : 'different people'}`,
        ),
      );
    }
  }
  return failed ? EXIT.failed : EXIT.done;
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
