/**
 * Where the recognition function gets its gallery: an S3 object (the default:
 * `s3://<prefix>-meta/gallery/gallery.json`, written by `facerec gallery push`) or a file in the
 * bundle; either a JSON gallery or a binary store (told apart by the store's mark, whatever the
 * name). An S3 gallery is re-checked with a HeadObject at most every `ttlMs` and downloaded again
 * only when its ETag changed, so pushing a new gallery reaches warm functions within the TTL,
 * without a redeploy. No gallery object yet: an empty gallery (every face `Unknown`), not an
 * error. Local mode uses the same code against its local S3 endpoint.
 *
 * Parsing is functions/core/gallery/read.ts's (`galleryFromText`, `emptyGallery`): this module only
 * decides when to read and what to do when the object is missing.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.js';
import {
  emptyGallery,
  GalleryError,
  galleryFromBytes,
  galleryId,
  readGallery,
  type AnyGallery,
} from '../core/gallery/read.js';
import { isGalleryStore } from '../core/gallery/store.js';
import { galleryLocation, parseS3Uri, s3Uri } from '../core/layout.js';
import { classifyError, ErrorName, isNotFound } from './errors.js';

/** What the recognition function matches against, and where it came from. */
interface LoadedGallery {
  gallery: AnyGallery;
  /** galleryId(gallery): recorded with results. */
  id: string;
  /** The S3 object's ETag; `missing` when there is no gallery object; `file` for a file. */
  version: string;
}

export interface GallerySource {
  /** The current gallery for this engine's model id (cached; see the module comment). */
  current(modelId: string, descriptorSize: number): Promise<LoadedGallery>;
  /** `s3://bucket/key` or the file path, for messages. */
  readonly location: string;
}

/** Default re-check interval of an S3 gallery. */
const GALLERY_TTL_MS = 10_000;

/** FACEREC_GALLERY: a file path, or `s3://bucket/key`; unset: the meta bucket's gallery
 * (layout.galleryLocation). */
export function galleryLocationOf(config: Config): string {
  return config.galleryPath ?? galleryLocation(config.pipeline.buckets);
}

export function gallerySource(
  location: string,
  s3: () => S3Client,
  opts: { ttlMs?: number; now?: () => number } = {},
): GallerySource {
  const ref = parseS3Uri(location);
  return ref ? s3GallerySource(ref, s3, opts) : fileGallerySource(location);
}

/** A file: read once per process (it cannot change under a deployed function). */
function fileGallerySource(file: string): GallerySource {
  let loaded: Promise<LoadedGallery> | undefined;
  return {
    location: file,
    current(modelId) {
      if (!loaded) {
        loaded = readGallery(file, modelId).then((gallery) => ({
          gallery,
          id: galleryId(gallery),
          version: 'file',
        }));
        loaded.catch(() => (loaded = undefined));
      }
      return loaded;
    },
  };
}

function s3GallerySource(
  ref: { bucket: string; key: string },
  s3: () => S3Client,
  opts: { ttlMs?: number; now?: () => number },
): GallerySource {
  const location = s3Uri(ref);
  const ttl = opts.ttlMs ?? GALLERY_TTL_MS;
  const now = opts.now ?? Date.now;
  let cached: { loaded: LoadedGallery; modelId: string; checkedAt: number } | undefined;
  let inFlight: Promise<LoadedGallery> | undefined;

  const failure = (err: unknown, what: string) => {
    const e = classifyError(err);
    // Transient errors stay transient (the state machine retries); the rest is configuration.
    if (e.name === ErrorName.Transient) return e;
    return new GalleryError(`cannot ${what} gallery ${location}: ${e.message}`);
  };

  const refresh = async (modelId: string, descriptorSize: number): Promise<LoadedGallery> => {
    let etag: string;
    try {
      const head = await s3().send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      etag = head.ETag ?? '';
    } catch (err) {
      if (isNotFound(err)) etag = 'missing';
      else {
        const e = failure(err, 'check');
        // A passing S3 fault while a gallery is loaded: keep using it, check again next call.
        if (e.name === ErrorName.Transient && cached && cached.modelId === modelId) return cached.loaded;
        throw e;
      }
    }
    if (cached && cached.modelId === modelId && cached.loaded.version === etag && etag !== '') {
      cached.checkedAt = now();
      return cached.loaded;
    }
    let loaded: LoadedGallery;
    if (etag === 'missing') {
      const gallery = emptyGallery(modelId, descriptorSize);
      loaded = { gallery, id: galleryId(gallery), version: 'missing' };
    } else {
      let bytes: Uint8Array;
      try {
        const res = await s3().send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
        bytes = (await res.Body?.transformToByteArray()) ?? new Uint8Array();
        etag = res.ETag ?? etag;
      } catch (err) {
        // Deleted between HEAD and GET: check again next time.
        if (isNotFound(err)) return refresh(modelId, descriptorSize);
        throw failure(err, 'read');
      }
      const gallery = galleryFromBytes(bytes, modelId, location);
      loaded = { gallery, id: galleryId(gallery), version: etag };
    }
    cached = { loaded, modelId, checkedAt: now() };
    return loaded;
  };

  return {
    location,
    current(modelId, descriptorSize) {
      if (cached && cached.modelId === modelId && now() - cached.checkedAt < ttl) {
        return Promise.resolve(cached.loaded);
      }
      // One check at a time per process, shared by concurrent callers.
      if (!inFlight) {
        inFlight = refresh(modelId, descriptorSize).finally(() => (inFlight = undefined));
      }
      return inFlight;
    },
  };
}

/** Writes a gallery (already serialized: JSON text or a store's bytes) where a gallery source reads it. */
export async function putGallery(s3: S3Client, location: string, body: string | Uint8Array): Promise<string> {
  const ref = parseS3Uri(location);
  if (!ref) throw new Error(`${location}: not an s3://bucket/key location`);
  const contentType =
    typeof body !== 'string' && isGalleryStore(body) ? 'application/octet-stream' : 'application/json';
  const res = await s3.send(
    new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, ContentType: contentType }),
  );
  return res.ETag ?? '';
}
