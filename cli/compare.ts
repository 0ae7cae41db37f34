/** `facerec compare <imageA> <imageB>`: are these the same person? */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { pickMainFace } from '../functions/core/enroll.js';
import { descriptorDistance, DESCRIPTORS } from '../functions/core/faces/describe.js';
import { openEngine, withEngineOptions, type EngineFlags } from './engine-options.js';

interface CompareFlags extends EngineFlags {
  json?: boolean;
}

export async function runCompare(a: string, b: string, flags: CompareFlags): Promise<number> {
  const engine = await openEngine(flags);
  const faces = [];
  const notes: string[] = [];
  for (const file of [a, b]) {
    const analysis = await engine.analyzeFaces(await readFile(file));
    const pick = pickMainFace(analysis.faces, analysis.width, analysis.height);
    if (!pick.face) {
      console.error(`${file}: ${pick.reason}`);
      return 2;
    }
    if (pick.note) notes.push(`${file}: ${pick.note}`);
    faces.push(pick.face);
  }
  const distance = descriptorDistance(
    DESCRIPTORS[engine.config.descriptor].metric,
    faces[0].descriptor,
    faces[1].descriptor,
  );
  const threshold = engine.config.matchThreshold;
  const same = distance <= threshold;
  if (flags.json) console.log(JSON.stringify({ a, b, distance, threshold, same, notes }));
  else {
    for (const n of notes) console.log(n);
    console.log(
      `distance ${distance.toFixed(4)} (threshold ${threshold}): ${same ? 'same person' : 'different people'}`,
    );
  }
  return 0;
}

export function registerCompare(program: Command): void {
  withEngineOptions(
    program
      .command('compare')
      .description('compare the main face of two images: distance and same/different')
      .argument('<imageA>')
      .argument('<imageB>')
      .option('--json', 'print one JSON object'),
  ).action(async (a: string, b: string, flags: CompareFlags) => {
    process.exitCode = await runCompare(a, b, flags);
  });
}
