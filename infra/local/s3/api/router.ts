/**
 * Which operation a request is: the service (no bucket), a bucket, or an object, by method and
 * query. The order of the checks is S3's order of errors (e.g. NoSuchBucket before
 * NotImplemented), which clients and the tests rely on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateKey } from '../store.js';
import { deleteObjects } from './batch-delete.js';
import {
  createBucket,
  deleteBucket,
  getBucketLocation,
  getBucketVersioning,
  headBucket,
  listBuckets,
} from './buckets.js';
import type { S3Context } from './context.js';
import { copyObject } from './copy.js';
import { methodNotAllowed, noSuchBucket, notImplemented } from './errors.js';
import { corsRefused, formPostRefused, refuseUnsupportedSubresource } from './guards.js';
import { listObjects } from './listing.js';
import { abortUpload, completeUpload, createUpload, listUploads, uploadPart } from './multipart.js';
import { deleteObject, getObject, putObject } from './objects.js';
import type { Route } from './request.js';

export async function dispatch(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
): Promise<void> {
  await ctx.authorize?.(req, r, ctx.store);
  if (!r.bucket) {
    if (r.method === 'GET') return listBuckets(ctx, res);
    throw methodNotAllowed();
  }
  if (r.method === 'OPTIONS') throw corsRefused();
  if (r.key === undefined) return bucketOperation(ctx, req, res, r, r.bucket);
  return objectOperation(ctx, req, res, r, r.bucket, r.key);
}

async function bucketOperation(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
  bucket: string,
): Promise<void> {
  const { method, query: q } = r;
  if (method === 'PUT' && q.size === 0) return createBucket(ctx, res, bucket);
  if (!ctx.store.hasBucket(bucket)) throw noSuchBucket(bucket);
  if (method === 'HEAD') return headBucket(res);
  if (method === 'DELETE' && q.size === 0) return deleteBucket(ctx, res, bucket);
  if ((method === 'PUT' || method === 'DELETE') && q.size > 0) throw notImplemented([...q.keys()][0]);
  if (method === 'POST' && q.has('delete')) return deleteObjects(ctx, req, res, r);
  if (method === 'POST') throw formPostRefused();
  if (method === 'GET') {
    if (q.has('location')) return getBucketLocation(res);
    if (q.has('versioning')) return getBucketVersioning(res);
    if (q.has('uploads')) return listUploads(res, bucket);
    refuseUnsupportedSubresource(q);
    return listObjects(ctx, res, r);
  }
  throw methodNotAllowed();
}

async function objectOperation(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
  bucket: string,
  key: string,
): Promise<void> {
  validateKey(key);
  if (!ctx.store.hasBucket(bucket)) throw noSuchBucket(bucket);
  refuseUnsupportedSubresource(r.query);
  const uploadId = r.query.get('uploadId');
  const copySource = req.headers['x-amz-copy-source'];
  switch (r.method) {
    case 'GET':
    case 'HEAD':
      if (uploadId !== undefined) throw notImplemented('ListParts');
      return getObject(ctx, req, res, r);
    case 'PUT':
      if (uploadId !== undefined) {
        if (copySource) throw notImplemented('UploadPartCopy');
        return uploadPart(ctx, req, res, r, uploadId);
      }
      if (typeof copySource === 'string') return copyObject(ctx, req, res, r, copySource);
      return putObject(ctx, req, res, r);
    case 'DELETE':
      if (uploadId !== undefined) return abortUpload(ctx, res, r, uploadId);
      return deleteObject(ctx, res, r);
    case 'POST':
      if (r.query.has('uploads')) return createUpload(ctx, req, res, r);
      if (uploadId !== undefined) return completeUpload(ctx, req, res, r, uploadId);
      throw methodNotAllowed();
    default:
      throw methodNotAllowed();
  }
}
