/**
 * The gallery of known people (the original project's `data.pt`), in one of two files:
 * - a versioned JSON file with, per person, one descriptor per enrolled image plus the image's
 *   file name and sha256, so that enrolling again recomputes only what changed (small galleries;
 *   diffable);
 * - a binary store (store.ts) holding the same content as matrices, for galleries of
 *   thousands to 100,000 people: read without parsing text.
 * Readers take either (`readGallery`, `galleryFromBytes` tell them apart by the store's mark);
 * search works on the compiled form (typed arrays), which a store is already and a JSON gallery
 * becomes once (`compileGallery`, cached). A gallery is tied to the descriptor pipeline that
 * produced it (`modelId`); descriptors from another pipeline are not comparable.
 * This file reads (what the recognition function needs); write.ts writes either file and
 * enroll.ts builds a gallery from photos, both run by the CLI only.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  decodeGalleryStore,
  isGalleryStore,
  StoreFormatError,
  type CompiledGallery,
  type ImageProvenance,
} from './store.js';

export type { CompiledGallery } from './store.js';

export const GALLERY_VERSION = 1;

const GallerySchema = z.object({
  version: z.literal(GALLERY_VERSION),
  modelId: z.string().min(1),
  descriptorSize: z.number().int().positive(),
  people: z.array(
    z
      .object({
        name: z.string().min(1),
        images: z.array(
          z.object({
            file: z.string(),
            sha256: z.string().regex(/^[0-9a-f]{64}$/),
            descriptor: z.array(z.number().finite()),
            /** How the descriptor was made from the photo (FaceEngine.enrollmentRecipe, e.g.
             * `views:mirror+zoom0.1`). Optional: galleries enrolled before it was recorded have none;
             * they still match, and enrolling again re-describes those images. */
            recipe: z.string().min(1).optional(),
          }),
        ),
        // A person with no photo would be matched at a made-up distance (every face near no one).
      })
      .refine((p) => p.images.length > 0, { message: 'a person needs at least one photo', path: ['images'] }),
  ),
  /** Faces of people NOT enrolled, described by the same model at enrollment (issue 11): the
   * 1:N decision calibrates its threshold on them (functions/core/faces/open-set.ts). Optional:
   * galleries without it still work, calibrated on their enrolled photos alone. */
  cohort: z
    .object({
      source: z.string(),
      descriptors: z.array(z.array(z.number().finite())),
    })
    .optional(),
});

export type Gallery = z.infer<typeof GallerySchema>;
export type GalleryPerson = Gallery['people'][number];
export type GalleryImage = GalleryPerson['images'][number];

/** A gallery file that is missing, malformed or made for another model. Bad input. */
export class GalleryError extends Error {
  override readonly name = 'GalleryError';
}

export function emptyGallery(modelId: string, descriptorSize: number): Gallery {
  return { version: GALLERY_VERSION, modelId, descriptorSize, people: [] };
}

function checkModel(modelId: string, expectedModelId: string | undefined, source: string): void {
  if (expectedModelId !== undefined && modelId !== expectedModelId) {
    throw new GalleryError(
      `${source}: gallery was built for model '${modelId}', but this engine uses '${expectedModelId}'; ` +
        `enroll the people again with 'facerec enroll' (or set FACEREC_DESCRIPTOR, and the other descriptor ` +
        `settings, to those it was built with)`,
    );
  }
}

/** Validates a parsed gallery file. `expectedModelId` undefined: built for any model (a deploy
 * checks the file's shape; the function checks its model when it loads it). */
export function parseGallery(
  json: unknown,
  expectedModelId: string | undefined,
  source = 'gallery',
): Gallery {
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== undefined && version !== GALLERY_VERSION) {
    throw new GalleryError(
      `${source}: gallery format version ${String(version)} is not supported (expected ${GALLERY_VERSION})`,
    );
  }
  const parsed = GallerySchema.safeParse(json);
  if (!parsed.success) {
    throw new GalleryError(
      `${source}: not a valid gallery file: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
    );
  }
  const gallery = parsed.data;
  checkModel(gallery.modelId, expectedModelId, source);
  for (const descriptor of gallery.cohort?.descriptors ?? []) {
    if (descriptor.length !== gallery.descriptorSize)
      throw new GalleryError(
        `${source}: a cohort descriptor has ${descriptor.length} values, expected ${gallery.descriptorSize}`,
      );
  }
  for (const person of gallery.people) {
    for (const image of person.images) {
      if (image.descriptor.length !== gallery.descriptorSize) {
        throw new GalleryError(
          `${source}: ${person.name}/${image.file} has ${image.descriptor.length} values, expected ${gallery.descriptorSize}`,
        );
      }
    }
  }
  return gallery;
}

/** The one gallery reader: a gallery file's text (from a file, S3 or a bundle) -> a validated
 * gallery, or a GalleryError naming `source`. */
export function galleryFromText(text: string, expectedModelId: string | undefined, source: string): Gallery {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GalleryError(`${source}: not JSON, so not a gallery file (${(err as Error).message})`);
  }
  return parseGallery(json, expectedModelId, source);
}

/** A gallery file's bytes (JSON or store) -> a validated gallery, or a GalleryError naming `source`. */
export function galleryFromBytes(
  bytes: Uint8Array,
  expectedModelId: string | undefined,
  source: string,
): AnyGallery {
  if (!isGalleryStore(bytes))
    return galleryFromText(Buffer.from(bytes).toString('utf8'), expectedModelId, source);
  let store: CompiledGallery;
  try {
    store = decodeGalleryStore(bytes, source);
  } catch (err) {
    if (err instanceof StoreFormatError) throw new GalleryError(err.message);
    throw err;
  }
  checkModel(store.modelId, expectedModelId, source);
  return store;
}

/** Reads a gallery file: JSON or a binary store. */
export async function readGallery(path: string, expectedModelId: string | undefined): Promise<AnyGallery> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new GalleryError(
      `cannot read gallery file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return galleryFromBytes(bytes, expectedModelId, path);
}

/** Either form of a gallery: the JSON document, or its compiled (typed-array) form. */
export type AnyGallery = Gallery | CompiledGallery;

export const isCompiled = (g: AnyGallery): g is CompiledGallery => 'kind' in g && g.kind === 'compiled';

/** Stable id of a gallery's content, recorded with results: the same for a JSON gallery and the
 * store converted from it. */
export function galleryId(gallery: AnyGallery): string {
  if (isCompiled(gallery)) return gallery.id;
  return idOf(
    gallery.modelId,
    gallery.people.map((p) => ({ name: p.name, images: p.images })),
  );
}

function idOf(
  modelId: string,
  people: Iterable<{ name: string; images: readonly ImageProvenance[] }>,
): string {
  const h = createHash('sha256');
  h.update(modelId);
  for (const p of people) {
    h.update(`\n${p.name}`);
    // The recipe only when recorded: ids of older galleries stay what they were.
    for (const img of p.images) h.update(`\n${img.sha256}${img.recipe ? ` ${img.recipe}` : ''}`);
  }
  return h.digest('hex').slice(0, 16);
}

const compiledDocuments = new WeakMap<Gallery, CompiledGallery>();

/** The compiled form of a gallery (a JSON gallery is compiled once and cached). */
export function compileGallery(gallery: AnyGallery): CompiledGallery {
  if (isCompiled(gallery)) return gallery;
  let c = compiledDocuments.get(gallery);
  if (!c) {
    const size = gallery.descriptorSize;
    const rows = gallery.people.flatMap((p) => p.images);
    const images = new Float32Array(rows.length * size);
    rows.forEach((img, i) => images.set(img.descriptor, i * size));
    const cohortRows = gallery.cohort?.descriptors ?? [];
    const cohort = new Float32Array(cohortRows.length * size);
    cohortRows.forEach((d, i) => cohort.set(d, i * size));
    const provenance = rows.map(({ file, sha256, recipe }) => ({
      file,
      sha256,
      ...(recipe ? { recipe } : {}),
    }));
    c = {
      kind: 'compiled',
      modelId: gallery.modelId,
      descriptorSize: size,
      id: galleryId(gallery),
      names: gallery.people.map((p) => p.name),
      counts: Uint32Array.from(gallery.people, (p) => p.images.length),
      images,
      cohort,
      cohortSource: gallery.cohort?.source,
      provenance: () => provenance,
    };
    compiledDocuments.set(gallery, c);
  }
  return c;
}

/**
 * A gallery file's people and their photos' provenance, without descriptors, JSON or store (for
 * listings such as the console's gallery page). JSON is returned as parsed; a store as the same
 * shape (modelId, people[].name, people[].images[].file/sha256/recipe).
 */
export function galleryListing(bytes: Uint8Array, source: string): unknown {
  if (!isGalleryStore(bytes)) return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  const g = galleryFromBytes(bytes, undefined, source) as CompiledGallery;
  const provenance = g.provenance();
  let row = 0;
  return {
    modelId: g.modelId,
    people: g.names.map((name, p) => ({ name, images: provenance.slice(row, (row += g.counts[p])) })),
  };
}

/** Each person's name and photo count, whatever the form. */
export function galleryPeople(gallery: AnyGallery): Array<{ name: string; images: number }> {
  if (!isCompiled(gallery)) return gallery.people.map((p) => ({ name: p.name, images: p.images.length }));
  return gallery.names.map((name, i) => ({ name, images: gallery.counts[i] }));
}
