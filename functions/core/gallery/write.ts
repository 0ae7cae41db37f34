/**
 * Writing a gallery file: the document back from a compiled gallery, and its bytes in either
 * format (read.ts reads both). Only the CLI writes galleries (`facerec enroll`, `facerec gallery`,
 * enroll.ts); no function bundle carries this module (test/functions/bundles.test.ts).
 */
import { compileGallery, GALLERY_VERSION, isCompiled, type AnyGallery, type Gallery } from './read.js';
import { encodeGalleryStore, type StoreDtype, type StrangerSample } from './store.js';

/** A compiled gallery back as a document (to convert a store to JSON, or enroll into it). */
export function galleryDocument(gallery: AnyGallery): Gallery {
  if (!isCompiled(gallery)) return gallery;
  const size = gallery.descriptorSize;
  const provenance = gallery.provenance();
  const rowOf = (i: number) => Array.from(gallery.images.subarray(i * size, (i + 1) * size));
  let row = 0;
  const people = gallery.names.map((name, p) => ({
    name,
    images: Array.from({ length: gallery.counts[p] }, () => {
      const { file, sha256, recipe } = provenance[row];
      return { file, sha256, descriptor: rowOf(row++), ...(recipe ? { recipe } : {}) };
    }),
  }));
  const cohortRows = gallery.cohort.length / size;
  return {
    version: GALLERY_VERSION,
    modelId: gallery.modelId,
    descriptorSize: size,
    people,
    ...(gallery.cohortSource !== undefined
      ? {
          cohort: {
            source: gallery.cohortSource,
            descriptors: Array.from({ length: cohortRows }, (_, i) =>
              Array.from(gallery.cohort.subarray(i * size, (i + 1) * size)),
            ),
          },
        }
      : {}),
  };
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

export type GalleryFormat = 'json' | 'store';

/** A store's value type unless asked otherwise. float32 is searched in place, with no decode,
 * so a cold start grows about half as much as with float16, whose decode costs more than the
 * read it saves from a local file; float16 halves the bytes (an S3 download on AWS) for
 * distances that move by ~1e-5 (docs/benchmarks.md, "Galleries of 100,000 people"). */
export const DEFAULT_STORE_DTYPE: StoreDtype = 'float32';

/** The format a gallery file gets: asked for, else what the file already is, else by its name
 * (`.json`: JSON; anything else: a store). */
export function galleryFormatFor(file: string, existing?: AnyGallery, asked?: GalleryFormat): GalleryFormat {
  if (asked) return asked;
  if (existing) return isCompiled(existing) ? 'store' : 'json';
  return file.toLowerCase().endsWith('.json') ? 'json' : 'store';
}

/** A gallery's file content in either format (a store keeps its stranger sample, when given). */
export function galleryBytes(
  gallery: AnyGallery,
  options: { format: GalleryFormat; dtype?: StoreDtype; strangerSample?: StrangerSample },
): Uint8Array {
  if (options.format === 'json')
    return new Uint8Array(Buffer.from(serializeGallery(galleryDocument(gallery)), 'utf8'));
  return encodeGalleryStore(compileGallery(gallery), {
    dtype:
      options.dtype ??
      (isCompiled(gallery) ? (gallery.storedAs ?? DEFAULT_STORE_DTYPE) : DEFAULT_STORE_DTYPE),
    strangerSample: options.strangerSample,
  });
}
