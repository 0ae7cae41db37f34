/**
 * Multipart uploads: create, upload a part, complete (the parts joined by multipart-uploads.ts), abort, and
 * the (always empty, uploads are not listed) ListMultipartUploads.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Context } from './context.js';
import { malformedXml } from './errors.js';
import { objectCreated } from './events.js';
import { sendEmpty, sendXml } from './reply.js';
import { putOptionsOf, readXmlBody, type Route } from './request.js';
import { childText, el, parseXml, S3_NAMESPACE } from './xml.js';

export function createUpload(ctx: S3Context, req: IncomingMessage, res: ServerResponse, r: Route): void {
  const id = ctx.uploads.create(r.bucket!, r.key!, putOptionsOf(req.headers));
  sendXml(
    res,
    200,
    `<InitiateMultipartUploadResult xmlns="${S3_NAMESPACE}">${el('Bucket', r.bucket)}${el('Key', r.key)}${el('UploadId', id)}</InitiateMultipartUploadResult>`,
  );
}

export async function uploadPart(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
  uploadId: string,
): Promise<void> {
  const partNumber = Number(r.query.get('partNumber'));
  const etag = await ctx.uploads.uploadPart(
    r.bucket!,
    r.key!,
    uploadId,
    partNumber,
    req,
    putOptionsOf(req.headers),
  );
  sendEmpty(res, 200, { ETag: etag, 'Content-Length': '0' });
}

/** The parts a `<CompleteMultipartUpload>` document names, in its order. */
export function parseCompleteRequest(body: string): Array<{ partNumber: number; etag: string }> {
  const root = parseXml(body);
  if (root?.name !== 'CompleteMultipartUpload') throw malformedXml();
  return root.children
    .filter((c) => c.name === 'Part')
    .map((part) => ({
      partNumber: Number(childText(part, 'PartNumber')),
      etag: (childText(part, 'ETag') ?? '').trim(),
    }));
}

export async function completeUpload(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
  uploadId: string,
): Promise<void> {
  const bucket = r.bucket!;
  const key = r.key!;
  const parts = parseCompleteRequest(await readXmlBody(req));
  const meta = await ctx.uploads.complete(bucket, key, uploadId, parts);
  sendXml(
    res,
    200,
    `<CompleteMultipartUploadResult xmlns="${S3_NAMESPACE}">${el('Location', `/${bucket}/${key}`)}${el('Bucket', bucket)}${el('Key', key)}${el('ETag', meta.etag)}</CompleteMultipartUploadResult>`,
  );
  ctx.emit(
    objectCreated('ObjectCreated:CompleteMultipartUpload', bucket, key, meta, req.socket.remoteAddress),
  );
}

export function abortUpload(ctx: S3Context, res: ServerResponse, r: Route, uploadId: string): void {
  ctx.uploads.abort(r.bucket!, r.key!, uploadId);
  sendEmpty(res, 204);
}

export function listUploads(res: ServerResponse, bucket: string): void {
  sendXml(
    res,
    200,
    `<ListMultipartUploadsResult xmlns="${S3_NAMESPACE}">${el('Bucket', bucket)}<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`,
  );
}
