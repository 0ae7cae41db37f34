/**
 * Enrollment: images of known people -> gallery. Pure of the file system: the caller lists the
 * images and supplies their bytes, so the CLI and tests share this logic.
 */
import { createHash } from 'node:crypto';
import type { AnalyzedFace, FaceEngine } from '../../functions/core/faces/engine.js';
import {
  emptyGallery,
  type Gallery,
  type GalleryImage,
  type GalleryPerson,
} from '../../functions/core/gallery.js';

/** A face dominates when its box is at least this many times larger than the next one. */
const DOMINANCE = 2;

export type FacePick =
  | {
      face: AnalyzedFace;
      /** Set when no face dominated by size and the most central one (for its size) was taken. */
      note?: string;
    }
  | { face: null; reason: string };

/**
 * The one face an enrollment, comparison or benchmark image is about. A face at least twice as
 * large (area) as every other one is it; otherwise the face nearest the image centre, measured
 * in units of its own size (a face twice as large may sit twice as far out), so photos framed
 * on one person (LFW's convention, most portraits) give that person instead of a refusal.
 */
export function pickMainFace(faces: AnalyzedFace[], width: number, height: number): FacePick {
  if (faces.length === 0) return { face: null, reason: 'no face found' };
  if (faces.length === 1) return { face: faces[0] };
  const area = (f: AnalyzedFace) => f.box.width * f.box.height;
  const bySize = [...faces].sort((a, b) => area(b) - area(a));
  const [first, second] = bySize;
  if (area(first) >= DOMINANCE * area(second)) return { face: first };
  const offCentre = (f: AnalyzedFace) =>
    Math.hypot(f.box.x + f.box.width / 2 - width / 2, f.box.y + f.box.height / 2 - height / 2) /
    Math.sqrt(area(f));
  const contenders = bySize.filter((f) => DOMINANCE * area(f) > area(first));
  const face = contenders.reduce((best, f) => (offCentre(f) < offCentre(best) ? f : best));
  const b = face.box;
  return {
    face,
    note:
      `${faces.length} faces, none twice as large as the others: took the one nearest the centre ` +
      `(box ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}x${Math.round(b.height)})`,
  };
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
  /** Images enrolled before with another recipe (or none recorded): described again. */
  refreshed: Array<{ person: string; file: string; was: string | undefined }>;
  /** Images due a refresh that could not be described again: their earlier descriptor is kept. */
  notRefreshed: Array<{ person: string; file: string; reason: string }>;
  skipped: Array<{ person: string; file: string; reason: string }>;
  /** Enrolled images that held several faces of similar size: which one was taken. */
  mainFaceChosen: Array<{ person: string; file: string; note: string }>;
  /** People whose every image was skipped (absent from the gallery unless enrolled before). */
  peopleWithoutImages: string[];
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Photos of people who are not enrolled: every face in them joins the gallery's cohort. */
export interface CohortPhotos {
  /** Where the photos come from (recorded in the gallery; a different source is recomputed). */
  source: string;
  photos: Uint8Array[];
}

/** The gallery's cohort: every face of the cohort photos, described by `engine` as a frame's
 * faces are (no mirror average): they stand in for the strangers the frames will show. */
export async function describeCohort(
  engine: FaceEngine,
  cohort: CohortPhotos,
): Promise<NonNullable<Gallery['cohort']>> {
  const descriptors: number[][] = [];
  for (const photo of cohort.photos)
    for (const face of (await engine.analyzeFaces(photo)).faces)
      descriptors.push(Array.from(face.descriptor));
  return { source: cohort.source, descriptors };
}

/**
 * Adds or replaces the people present in `images`; other people of `existing` stay. An image
 * whose sha256 was already enrolled for that person keeps its descriptor (no recomputation) when
 * it was made by the engine's current enrollment recipe; otherwise (an older recipe, or a gallery
 * from before recipes were recorded) it is described again and reported as refreshed.
 * With `cohort`, the gallery carries the descriptors of its faces (kept from `existing` when
 * they came from the same source).
 */
export async function enrollPeople(
  engine: FaceEngine,
  images: EnrollImage[],
  existing?: Gallery,
  cohort?: CohortPhotos,
): Promise<{ gallery: Gallery; report: EnrollReport }> {
  const base = existing ?? emptyGallery(engine.modelId, engine.descriptorSize);
  const known = new Map<string, GalleryImage>();
  for (const p of base.people) for (const img of p.images) known.set(`${p.name}\n${img.sha256}`, img);

  const report: EnrollReport = {
    enrolled: [],
    reused: [],
    refreshed: [],
    notRefreshed: [],
    skipped: [],
    mainFaceChosen: [],
    peopleWithoutImages: [],
  };
  const byPerson = new Map<string, GalleryImage[]>();
  for (const { person, file, bytes } of images) {
    const list = byPerson.get(person) ?? [];
    byPerson.set(person, list);
    const hash = sha256(bytes);
    const previous = known.get(`${person}\n${hash}`);
    if (previous && previous.recipe === engine.enrollmentRecipe) {
      list.push({ ...previous, file });
      report.reused.push({ person, file });
      continue;
    }
    let pick: FacePick;
    try {
      // Described as a template: several views of each chip (AnalyzeOptions.enrollment).
      const analysis = await engine.analyzeFaces(bytes, { enrollment: true });
      pick = pickMainFace(analysis.faces, analysis.width, analysis.height);
    } catch (err) {
      pick = { face: null, reason: (err as Error).message };
    }
    if (!pick.face) {
      if (previous) {
        // Described once already: an older descriptor beats losing the photo.
        list.push({ ...previous, file });
        report.notRefreshed.push({ person, file, reason: pick.reason });
      } else report.skipped.push({ person, file, reason: pick.reason });
      continue;
    }
    if (pick.note) report.mainFaceChosen.push({ person, file, note: pick.note });
    list.push({
      file,
      sha256: hash,
      descriptor: Array.from(pick.face.descriptor),
      recipe: engine.enrollmentRecipe,
    });
    if (previous) report.refreshed.push({ person, file, was: previous.recipe });
    else report.enrolled.push({ person, file });
  }

  const people: GalleryPerson[] = base.people.filter((p) => !byPerson.has(p.name));
  for (const [name, list] of byPerson) {
    if (list.length === 0) report.peopleWithoutImages.push(name);
    else people.push({ name, images: list });
  }
  people.sort((a, b) => a.name.localeCompare(b.name));
  const gallery: Gallery = { ...base, people };
  if (cohort)
    gallery.cohort =
      base.cohort?.source === cohort.source ? base.cohort : await describeCohort(engine, cohort);
  return { gallery, report };
}
