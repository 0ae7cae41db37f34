/**
 * The gallery of known people (the original project's `data.pt`): a versioned JSON file with,
 * per person, one descriptor per enrolled image plus the image's file name and sha256, so that
 * enrolling again recomputes only what changed. A gallery is tied to the descriptor pipeline
 * that produced it (`modelId`); descriptors from another pipeline are not comparable.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export const GALLERY_VERSION = 1;

const GallerySchema = z.object({
  version: z.literal(GALLERY_VERSION),
  modelId: z.string().min(1),
  descriptorSize: z.number().int().positive(),
  people: z.array(
    z.object({
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
    }),
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
  if (expectedModelId !== undefined && gallery.modelId !== expectedModelId) {
    throw new GalleryError(
      `${source}: gallery was built for model '${gallery.modelId}', but this engine uses '${expectedModelId}'; ` +
        `enroll the people again with 'facerec enroll' (or set FACEREC_DESCRIPTOR, and the other descriptor ` +
        `settings, to those it was built with)`,
    );
  }
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

export async function readGallery(path: string, expectedModelId: string | undefined): Promise<Gallery> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new GalleryError(
      `cannot read gallery file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return galleryFromText(text, expectedModelId, path);
}

/** Stable id of a gallery's content, recorded with results. */
export function galleryId(gallery: Gallery): string {
  const h = createHash('sha256');
  h.update(gallery.modelId);
  for (const p of gallery.people) {
    h.update(`\n${p.name}`);
    // The recipe only when recorded: ids of older galleries stay what they were.
    for (const img of p.images) h.update(`\n${img.sha256}${img.recipe ? ` ${img.recipe}` : ''}`);
  }
  return h.digest('hex').slice(0, 16);
}

export function serializeGallery(gallery: Gallery): string {
  // One image per line keeps the file diffable and still compact.
  return JSON.stringify(
    gallery,
    (_key, value) =>
      Array.isArray(value) && typeof value[0] === 'number'
        ? value.map((v: number) => Number(v.toFixed(6)))
        : value,
    1,
  );
}
