/**
 * Enrollment: images of known people -> gallery. Pure of the file system: the caller lists the
 * images and supplies their bytes (or a way to read them, one at a time), so the CLI, benchmarks
 * and tests share this logic. Large runs (10,000 photos) report progress, and a journal lets an
 * interrupted run resume without describing its photos again (enroll-journal.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AnalyzedFace, FaceEngine } from '../faces/engine.js';
import {
  emptyGallery,
  type CompiledGallery,
  type Gallery,
  type GalleryImage,
  type GalleryPerson,
} from './read.js';
import type { StrangerSample } from './store.js';

/** A face dominates when its box is at least this many times larger than the next one. */
const DOMINANCE = 2;

/**
 * Faces smaller than this (the detector box's shorter side, in the photo's pixels) are enrolled
 * but reported: MobileFaceNet's chip is 112 px and dlib's 150 px, so such a face is blown up
 * about 2x, and its template is only as good as the few pixels it came from.
 */
export const SMALL_FACE_PX = 64;

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
  /** The photo's bytes, or (when absent) `path` to read them from when its turn comes. */
  bytes?: Uint8Array;
  path?: string;
}

type Entry = { person: string; file: string };

export interface EnrollReport {
  enrolled: Entry[];
  reused: Entry[];
  /** Photos described in an earlier, interrupted run (the journal): not described again. */
  resumed: Entry[];
  /** Images enrolled before with another recipe (or none recorded): described again. */
  refreshed: Array<Entry & { was: string | undefined }>;
  /** Images due a refresh that could not be described again: their earlier descriptor is kept. */
  notRefreshed: Array<Entry & { reason: string }>;
  /** Not enrolled: no face, or not a readable image. */
  skipped: Array<Entry & { reason: string }>;
  /** Enrolled images that held several faces: which one was taken. */
  mainFaceChosen: Array<Entry & { note: string }>;
  /** Enrolled, with a face smaller than SMALL_FACE_PX. */
  smallFaces: Array<Entry & { px: number }>;
  /** People whose every image was skipped (absent from the gallery unless enrolled before). */
  peopleWithoutImages: string[];
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** What an interrupted enrollment already did, and where to record what this one does. */
export interface EnrollJournal {
  /** The outcome recorded for this photo content and recipe, if any. */
  lookup(person: string, sha: string, recipe: string): JournalOutcome | undefined;
  record(person: string, file: string, sha: string, recipe: string, outcome: JournalOutcome): void;
}

export type JournalOutcome =
  { descriptor: number[]; note?: string; px?: number } | { descriptor?: undefined; reason: string };

export interface EnrollOptions {
  /** Called after each photo: how many of how many are done, and which. */
  progress?: (done: number, total: number, image: EnrollImage) => void;
  journal?: EnrollJournal;
}

/** Describes one photo's main face as a template, or says why not. */
async function describePhoto(engine: FaceEngine, bytes: Uint8Array): Promise<JournalOutcome> {
  let pick: FacePick;
  let faces = 0;
  try {
    // Described as a template: several views of each chip (AnalyzeOptions.enrollment).
    const analysis = await engine.analyzeFaces(bytes, { enrollment: true });
    faces = analysis.faces.length;
    pick = pickMainFace(analysis.faces, analysis.width, analysis.height);
  } catch (err) {
    pick = { face: null, reason: (err as Error).message };
  }
  if (!pick.face) return { reason: pick.reason };
  const px = Math.round(Math.min(pick.face.box.width, pick.face.box.height));
  // Every photo with several faces is reported, with the one taken.
  const note =
    pick.note ??
    (faces > 1 ? `${faces} faces: took the largest (at least twice the area of any other)` : undefined);
  return {
    descriptor: Array.from(pick.face.descriptor),
    ...(note ? { note } : {}),
    ...(px < SMALL_FACE_PX ? { px } : {}),
  };
}

/**
 * Adds or replaces the people present in `images`; other people of `existing` stay. An image
 * whose sha256 was already enrolled for that person keeps its descriptor (no recomputation) when
 * it was made by the engine's current enrollment recipe; otherwise (an older recipe, or a gallery
 * from before recipes were recorded) it is described again and reported as refreshed. Photos
 * are read and described one at a time.
 */
export async function enrollPeople(
  engine: FaceEngine,
  images: EnrollImage[],
  existing?: Gallery,
  options: EnrollOptions = {},
): Promise<{ gallery: Gallery; report: EnrollReport }> {
  const base = existing ?? emptyGallery(engine.modelId, engine.descriptorSize);
  const known = new Map<string, GalleryImage>();
  for (const p of base.people) for (const img of p.images) known.set(`${p.name}\n${img.sha256}`, img);

  const report: EnrollReport = {
    enrolled: [],
    reused: [],
    resumed: [],
    refreshed: [],
    notRefreshed: [],
    skipped: [],
    mainFaceChosen: [],
    smallFaces: [],
    peopleWithoutImages: [],
  };
  const recipe = engine.enrollmentRecipe;
  const byPerson = new Map<string, GalleryImage[]>();
  let done = 0;
  for (const image of images) {
    const { person, file } = image;
    const list = byPerson.get(person) ?? [];
    byPerson.set(person, list);
    let bytes: Uint8Array | undefined = image.bytes;
    let readError: string | undefined;
    if (!bytes) {
      try {
        bytes = await readFile(image.path ?? file);
      } catch (err) {
        readError = `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
      }
    }
    if (!bytes) {
      report.skipped.push({ person, file, reason: readError ?? 'no bytes' });
      options.progress?.(++done, images.length, image);
      continue;
    }
    const hash = sha256(bytes);
    const previous = known.get(`${person}\n${hash}`);
    if (previous && previous.recipe === recipe) {
      list.push({ ...previous, file });
      report.reused.push({ person, file });
      options.progress?.(++done, images.length, image);
      continue;
    }
    let outcome = options.journal?.lookup(person, hash, recipe);
    if (outcome) report.resumed.push({ person, file });
    else {
      outcome = await describePhoto(engine, bytes);
      options.journal?.record(person, file, hash, recipe, outcome);
    }
    if (outcome.descriptor === undefined) {
      if (previous) {
        // Described once already: an older descriptor beats losing the photo.
        list.push({ ...previous, file });
        report.notRefreshed.push({ person, file, reason: outcome.reason });
      } else report.skipped.push({ person, file, reason: outcome.reason });
    } else {
      if (outcome.note) report.mainFaceChosen.push({ person, file, note: outcome.note });
      if (outcome.px !== undefined) report.smallFaces.push({ person, file, px: outcome.px });
      list.push({ file, sha256: hash, descriptor: outcome.descriptor, recipe });
      if (previous) report.refreshed.push({ person, file, was: previous.recipe });
      else report.enrolled.push({ person, file });
    }
    options.progress?.(++done, images.length, image);
  }

  const people: GalleryPerson[] = base.people.filter((p) => !byPerson.has(p.name));
  for (const [name, list] of byPerson) {
    if (list.length === 0) report.peopleWithoutImages.push(name);
    else people.push({ name, images: list });
  }
  people.sort((a, b) => a.name.localeCompare(b.name));
  return { gallery: { ...base, people }, report };
}

/** What a finished enrollment should tell the user about the gallery's content. */
export interface GalleryReview {
  /** The same photo (same bytes) enrolled under two names. */
  samePhoto: Array<{ file: string; people: string[] }>;
  /** A photo of one person within the identification threshold of another person: the same
   * person under two names, or look-alikes that will be confused. */
  twoNames: Array<{ person: string; file: string; other: string; distance: number }>;
  /** A photo beyond the threshold from its own person's other photos: a photo of someone else
   * under that name, or one too poor to match the others. */
  farPhotos: Array<{
    person: string;
    file: string;
    distance: number;
    others: number;
    /** The other person it is nearest to, when it is nearer to them than to its own. */
    nearer?: { person: string; distance: number };
  }>;
}

/**
 * Reviews a gallery against its stranger sample (open-set.ts `measureStrangers`) and threshold:
 * photos that would be named as another person, photos far from their own person's others,
 * and identical photos under two names. Only the photos the sample searched (every photo of a
 * gallery up to 2,000 photos; beyond, a sample plus the photos just enrolled).
 */
export function reviewGallery(
  gallery: Pick<CompiledGallery, 'names' | 'counts' | 'provenance'>,
  sample: Pick<StrangerSample, 'photoRows' | 'nearestPerson' | 'distance' | 'ownRows' | 'ownDistance'>,
  threshold: number,
): GalleryReview {
  const provenance = gallery.provenance();
  const owner: number[] = [];
  gallery.counts.forEach((k, p) => {
    for (let i = 0; i < k; i++) owner.push(p);
  });
  const bySha = new Map<string, Set<string>>();
  provenance.forEach((img, row) => {
    const names = bySha.get(img.sha256) ?? new Set<string>();
    names.add(gallery.names[owner[row]]);
    bySha.set(img.sha256, names);
  });
  const samePhoto = provenance.flatMap((img) => {
    const people = [...(bySha.get(img.sha256) ?? [])];
    return people.length > 1 && bySha.delete(img.sha256) ? [{ file: img.file, people }] : [];
  });
  const nearestOther = new Map<number, { person: string; distance: number }>();
  const twoNames: GalleryReview['twoNames'] = [];
  sample.photoRows.forEach((row, i) => {
    const other = { person: gallery.names[sample.nearestPerson[i]], distance: sample.distance[i] };
    nearestOther.set(row, other);
    if (other.distance <= threshold)
      twoNames.push({
        person: gallery.names[owner[row]],
        file: provenance[row].file,
        other: other.person,
        distance: other.distance,
      });
  });
  const farPhotos: GalleryReview['farPhotos'] = [];
  sample.ownRows.forEach((row, i) => {
    const distance = sample.ownDistance[i];
    if (distance <= threshold) return;
    const other = nearestOther.get(row);
    farPhotos.push({
      person: gallery.names[owner[row]],
      file: provenance[row].file,
      distance,
      others: gallery.counts[owner[row]] - 1,
      ...(other && other.distance < distance ? { nearer: other } : {}),
    });
  });
  twoNames.sort((a, b) => a.distance - b.distance);
  farPhotos.sort((a, b) => b.distance - a.distance);
  return { samePhoto, twoNames, farPhotos };
}
