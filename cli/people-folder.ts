/** Reads a `people/<name>/*.{jpg,png,webp}` folder: the layout enrollment and benchmarks take. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';

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
