/** S3 reads and deletes the commands share (listings, texts, emptying a bucket), on any client. */
import {
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { listAll } from '../../functions/aws/s3.js';
import type { BucketListing, ListedObject } from './grade.js';

const errorName = (err: unknown) =>
  (err as { name?: string; Code?: string }).name ?? (err as { Code?: string }).Code ?? 'Error';

const toListed = (o: _Object): ListedObject => ({
  key: o.Key!,
  size: o.Size ?? 0,
  lastModified: o.LastModified?.getTime() ?? 0,
});

/** A bucket's listing for the grader; a bucket that S3 refuses to list (no such bucket, access
 * denied) counts as missing. Not reaching S3 at all (network, credentials) throws. */
export async function bucketListing(s3: S3Client, bucket: string): Promise<BucketListing> {
  try {
    return { name: bucket, exists: true, objects: (await listAll(s3, bucket)).map(toListed) };
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (!status)
      throw new Error(`cannot reach S3 to list ${bucket}: ${errorName(err)}: ${(err as Error).message}`, {
        cause: err,
      });
    const name = errorName(err);
    return {
      name: bucket,
      exists: false,
      error: name === 'NoSuchBucket' ? undefined : `${name}: ${(err as Error).message}`,
      objects: [],
    };
  }
}

export async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body ? res.Body.transformToString('utf-8') : '';
}

/** Delete every object the listing shows (DeleteObjects, 1000 keys per request). On a versioned
 * bucket this adds delete markers: earlier versions stay. Returns the number deleted. */
export async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  const keys = (await listAll(s3, bucket)).map((o) => o.Key!);
  let deleted = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const res = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const errors = res.Errors ?? [];
    if (errors.length) {
      const e = errors[0];
      throw new Error(
        `could not delete ${errors.length} objects of ${bucket} (first: ${e.Key}: ${e.Code} ${e.Message ?? ''})`,
      );
    }
    deleted += chunk.length;
  }
  return deleted;
}

/** 'Enabled' | 'Suspended' | undefined (never enabled); 'unknown' when the server cannot say. */
export async function bucketVersioning(s3: S3Client, bucket: string): Promise<string | undefined> {
  try {
    const res = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    return res.Status;
  } catch {
    return 'unknown';
  }
}
