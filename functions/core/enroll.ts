/**
 * Enrollment: images of known people -> gallery. Pure of the file system: the caller lists the
 * images and supplies their bytes, so the CLI and tests share this logic.
 */
import { createHash } from 'node:crypto';
import type { AnalyzedFace, FaceEngine } from './faces/engine.js';
import { emptyGallery, type Gallery, type GalleryImage, type GalleryPerson } from './gallery.js';

/** A face dominates when its box is at least this many times larger than the next one. */
const DOMINANCE = 2;

export type FacePick = { face: AnalyzedFace } | { face: null; reason: string };

/** The one face an enrollment or comparison image is about, or why there is none. */
export function pickDominantFace(faces: AnalyzedFace[]): FacePick {
  if (faces.length === 0) return { face: null, reason: 'no face found' };
  if (faces.length === 1) return { face: faces[0] };
  const bySize = [...faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  const [first, second] = bySize;
  if (first.box.width * first.box.height >= DOMINANCE * second.box.width * second.box.height)
    return { face: first };
  return { face: null, reason: `${faces.length} faces of similar size, none dominates` };
}

export interface EnrollImage {
  person: string;
  /** Name recorded in the gallery (relative to the people folder). */
  file: string;
  bytes: Uint8Array;
}

export interface EnrollReport {
  enrolled: Array<{ person: string; file: string }>;
  reused: Array<{ person: string; file: string }>;
  skipped: Array<{ person: string; file: string; reason: string }>;
  /** People whose every image was skipped (absent from the gallery unless enrolled before). */
  peopleWithoutImages: string[];
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Adds or replaces the people present in `images`; other people of `existing` stay. An image
 * whose sha256 was already enrolled for that person keeps its descriptor (no recomputation).
 */
export async function enrollPeople(
  engine: FaceEngine,
  images: EnrollImage[],
  existing?: Gallery,
): Promise<{ gallery: Gallery; report: EnrollReport }> {
  const base = existing ?? emptyGallery(engine.modelId, engine.descriptorSize);
  const known = new Map<string, GalleryImage>();
  for (const p of base.people) for (const img of p.images) known.set(`${p.name}\n${img.sha256}`, img);

  const report: EnrollReport = { enrolled: [], reused: [], skipped: [], peopleWithoutImages: [] };
  const byPerson = new Map<string, GalleryImage[]>();
  for (const { person, file, bytes } of images) {
    const list = byPerson.get(person) ?? [];
    byPerson.set(person, list);
    const hash = sha256(bytes);
    const previous = known.get(`${person}\n${hash}`);
    if (previous) {
      list.push({ ...previous, file });
      report.reused.push({ person, file });
      continue;
    }
    let faces: AnalyzedFace[];
    try {
      faces = (await engine.analyzeFaces(bytes)).faces;
    } catch (err) {
      report.skipped.push({ person, file, reason: (err as Error).message });
      continue;
    }
    const pick = pickDominantFace(faces);
    if (!pick.face) {
      report.skipped.push({ person, file, reason: pick.reason });
      continue;
    }
    list.push({ file, sha256: hash, descriptor: Array.from(pick.face.descriptor) });
    report.enrolled.push({ person, file });
  }

  const people: GalleryPerson[] = base.people.filter((p) => !byPerson.has(p.name));
  for (const [name, list] of byPerson) {
    if (list.length === 0) report.peopleWithoutImages.push(name);
    else people.push({ name, images: list });
  }
  people.sort((a, b) => a.name.localeCompare(b.name));
  return { gallery: { ...base, people }, report };
}
