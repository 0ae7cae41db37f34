/** Reads a `people/<name>/*.{jpg,png,webp}` folder: the layout enrollment and benchmarks take. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { EnrollImage } from '../../functions/core/gallery/enroll.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

export interface PersonImages {
  name: string;
  /** Absolute paths, sorted. */
  files: string[];
}

export async function listPeopleFolder(dir: string): Promise<PersonImages[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read people folder ${dir}: ${err.code ?? err.message}`);
  });
  const people: PersonImages[] = [];
  for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.'))) {
    const files = (await readdir(path.join(dir, entry.name)))
      .filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase()))
      .sort()
      .map((f) => path.join(dir, entry.name, f));
    people.push({ name: entry.name, files });
  }
  return people.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The photos of `people` as enrollment input: paths, read by enrollment one at a time when
 * their turn comes (10,000 photos are never all in memory). `take` picks each person's files
 * (all of them by default); `label` is the name a file gets in the gallery (its base name by
 * default).
 */
export function readEnrollImages(
  people: PersonImages[],
  options: { take?: (files: string[]) => string[]; label?: (file: string) => string } = {},
): EnrollImage[] {
  const { take = (files) => files, label = (file) => path.basename(file) } = options;
  return people.flatMap((person) =>
    take(person.files).map((file) => ({ person: person.name, file: label(file), path: file })),
  );
}
