/** A presigned GetObject URL: how ffmpeg reads a large video in place (range requests) instead of
 * the function downloading it to /tmp. The URL carries credentials: it is never logged. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectRef } from './s3.js';

export function presignedGetUrl(s3: S3Client, ref: ObjectRef, expiresInSec: number): Promise<string> {
  return getSignedUrl(
    s3,
    new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    {
      expiresIn: expiresInSec,
    },
  );
}
