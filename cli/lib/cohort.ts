/**
 * The cohort of non-enrolled faces a gallery carries (functions/core/faces/open-set.ts): the
 * faces of the six demo photos that @vladmandic/face-api ships in its npm package (22 faces),
 * a dependency that is always installed. Never data from outside the repository's dependencies.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CohortPhotos } from './enroll.js';
import { FACE_API_VERSION } from '../../models/manifest.js';

const demoDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'node_modules',
  '@vladmandic',
  'face-api',
  'demo',
);

/** The cohort photos, or undefined when the package's demo folder is not installed. */
export async function readCohortPhotos(): Promise<CohortPhotos | undefined> {
  const files = [1, 2, 3, 4, 5, 6].map((i) => path.join(demoDir, `sample${i}.jpg`));
  if (!files.every((f) => existsSync(f))) return undefined;
  return {
    source: `@vladmandic/face-api@${FACE_API_VERSION} demo/sample1..6.jpg`,
    photos: await Promise.all(files.map((f) => readFile(f))),
  };
}
