/** Thin S3 helpers over the SDK client: the S3 calls the functions make, and `listAll`, the one
 * paged listing that reconcile, the CLI and the benchmarks share. */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { normalizeEtag, type UploadVersion } from '../core/upload-version.js';
import { BadInputError, classifyError, ErrorName, isNotFound } from './errors.js';

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
  /** The version wanted, when there is no version id (unversioned bucket). */
  etag?: string;
}

/** Stream an object to a file; returns its size in bytes. With `ref.etag` (and no version id),
 * only that version: a newer upload of the key is refused (If-Match, and the answer's ETag
 * checked for servers that ignore If-Match), never processed in place of the older one. */
export async function downloadToFile(
  s3: S3Client,
  ref: ObjectRef,
  file: string,
  signal?: AbortSignal,
): Promise<number> {
  const etag = ref.versionId ? undefined : normalizeEtag(ref.etag);
  const superseded = (now: string) =>
    new BadInputError(
      `${ref.key}: superseded: the object under the key is no longer this upload (ETag ${etag}, now ${now})`,
    );
  let res;
  try {
    res = await s3.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        VersionId: ref.versionId,
        ...(etag ? { IfMatch: `"${etag}"` } : {}),
      }),
      { abortSignal: signal },
    );
  } catch (err) {
    // A server that honours If-Match answers 412; one that ignores it is caught below.
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (etag && (e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412))
      throw superseded('another version');
    throw err;
  }
  if (etag && res.ETag && normalizeEtag(res.ETag) !== etag) {
    (res.Body as Readable | undefined)?.destroy?.();
    throw superseded(normalizeEtag(res.ETag) ?? 'unknown');
  }
  if (!res.Body) return 0;
  let bytes = 0;
  const body = res.Body as Readable;
  body.on('data', (chunk: Buffer) => (bytes += chunk.length));
  await pipeline(body, createWriteStream(file));
  return bytes;
}

export async function getBytes(s3: S3Client, ref: ObjectRef, signal?: AbortSignal): Promise<Uint8Array> {
  const res = await s3.send(
    new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    { abortSignal: signal },
  );
  if (!res.Body) return new Uint8Array();
  return res.Body.transformToByteArray();
}

export async function head(s3: S3Client, ref: ObjectRef) {
  return s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }));
}

/** The current version of an object (HeadObject without a version id); undefined when the key
 * does not exist. */
export async function currentVersion(
  s3: S3Client,
  ref: { bucket: string; key: string },
): Promise<UploadVersion | undefined> {
  try {
    const h = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return { etag: normalizeEtag(h.ETag), versionId: h.VersionId ?? undefined };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function putFile(s3: S3Client, bucket: string, key: string, file: string, contentType: string) {
  const body = await readFile(file);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/** Attempts of `uploadFile` (the first and three more). */
const UPLOAD_ATTEMPTS = 4;

/**
 * A file streamed to S3 (videos of any size, never read whole into memory). The SDK cannot retry
 * a streamed body (it was consumed), so a transient failure (a reset connection, a 5xx, a
 * throttle) is retried here with a fresh stream, after 0.5, 1 and 2 s.
 */
export async function uploadFile(
  s3: S3Client,
  o: { bucket: string; key: string; file: string; bytes: number; contentType: string },
) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await s3.send(
        new PutObjectCommand({
          Bucket: o.bucket,
          Key: o.key,
          Body: createReadStream(o.file),
          ContentLength: o.bytes,
          ContentType: o.contentType,
        }),
      );
    } catch (err) {
      if (attempt >= UPLOAD_ATTEMPTS || classifyError(err).name !== ErrorName.Transient) throw err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

/** `metadata`: S3 user metadata (x-amz-meta-*). */
export async function putText(
  s3: S3Client,
  bucket: string,
  key: string,
  text: string,
  contentType: string,
  metadata?: Record<string, string>,
) {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: Buffer.from(text, 'utf8'),
      ContentType: contentType,
      ...(metadata ? { Metadata: metadata } : {}),
    }),
  );
}

export async function putJson(
  s3: S3Client,
  bucket: string,
  key: string,
  value: unknown,
  metadata?: Record<string, string>,
) {
  await putText(s3, bucket, key, `${JSON.stringify(value, null, 2)}\n`, 'application/json', metadata);
}

export async function deleteObject(s3: S3Client, bucket: string, key: string) {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** Every object of a bucket (ListObjectsV2, all pages), optionally under a prefix. */
export async function listAll(s3: S3Client, bucket: string, prefix?: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, Prefix: prefix }),
    );
    out.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}
