/**
 * Service and bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, and the
 * bucket settings clients read (location, versioning) with the answers of a plain local bucket.
 */
import type { ServerResponse } from 'node:http';
import { S3Error } from '../store.js';
import type { S3Context } from './context.js';
import { sendEmpty, sendXml } from './reply.js';
import { el, LOCAL_OWNER, S3_NAMESPACE } from './xml.js';
import { DEFAULT_REGION } from '../../../../functions/core/facts.js';

export function listBuckets(ctx: S3Context, res: ServerResponse): void {
  const list = ctx.store
    .listBuckets()
    .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', b.created)}</Bucket>`)
    .join('');
  sendXml(
    res,
    200,
    `<ListAllMyBucketsResult xmlns="${S3_NAMESPACE}">${LOCAL_OWNER}<Buckets>${list}</Buckets></ListAllMyBucketsResult>`,
  );
}

export function createBucket(ctx: S3Context, res: ServerResponse, bucket: string): void {
  ctx.store.createBucket(bucket);
  sendEmpty(res, 200, { Location: `/${bucket}`, 'Content-Length': '0' });
}

export function headBucket(res: ServerResponse): void {
  sendEmpty(res, 200, { 'x-amz-bucket-region': DEFAULT_REGION });
}

export function deleteBucket(ctx: S3Context, res: ServerResponse, bucket: string): void {
  // As a bucket policy denying s3:DeleteBucket would: the pipeline writes to these buckets, and
  // without one every later video fails.
  if (ctx.protectedBuckets?.has(bucket)) {
    throw new S3Error(
      'AccessDenied',
      403,
      "Access Denied: the local stack's buckets cannot be deleted while it runs (its functions write to them).",
      { BucketName: bucket },
    );
  }
  ctx.store.deleteBucket(bucket);
  sendEmpty(res, 204);
}

/** GetBucketLocation: us-east-1, which S3 writes as an empty constraint. */
export function getBucketLocation(res: ServerResponse): void {
  sendXml(res, 200, `<LocationConstraint xmlns="${S3_NAMESPACE}"></LocationConstraint>`);
}

/** GetBucketVersioning: never enabled. */
export function getBucketVersioning(res: ServerResponse): void {
  sendXml(res, 200, `<VersioningConfiguration xmlns="${S3_NAMESPACE}"></VersioningConfiguration>`);
}
