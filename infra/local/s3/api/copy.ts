/** CopyObject: a PUT with x-amz-copy-source, conditional on the source, metadata copied or replaced. */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { S3Error, validateKey } from '../store.js';
import { copySourceQualifies } from './conditions.js';
import type { S3Context } from './context.js';
import { preconditionFailed } from './errors.js';
import { objectCreated } from './events.js';
import { sendXml } from './reply.js';
import { decodePathPart, putOptionsOf, type Route } from './request.js';
import { el, S3_NAMESPACE } from './xml.js';

/** The bucket and key of an x-amz-copy-source header (`[/]bucket/key[?versionId=…]`, percent-encoded). */
export function parseCopySource(source: string): { bucket: string; key: string } {
  const raw = source.split('?')[0].replace(/^\//, '');
  const slash = raw.indexOf('/');
  if (slash <= 0) {
    throw new S3Error(
      'InvalidArgument',
      400,
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      {
        ArgumentName: 'x-amz-copy-source',
      },
    );
  }
  const src = { bucket: decodePathPart(raw.slice(0, slash)), key: decodePathPart(raw.slice(slash + 1)) };
  validateKey(src.key);
  return src;
}

const replacesMetadata = (h: IncomingHttpHeaders): boolean =>
  String(h['x-amz-metadata-directive'] ?? 'COPY').toUpperCase() === 'REPLACE';

export async function copyObject(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
  source: string,
): Promise<void> {
  const src = parseCopySource(source);
  const srcMeta = ctx.store.head(src.bucket, src.key);
  if (!copySourceQualifies(req.headers, srcMeta.etag)) throw preconditionFailed();
  const replace = replacesMetadata(req.headers);
  if (!replace && src.bucket === r.bucket && src.key === r.key) {
    throw new S3Error(
      'InvalidRequest',
      400,
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const opts = putOptionsOf(req.headers);
  const meta = await ctx.store.copy(src, { bucket: r.bucket!, key: r.key! }, replace ? opts : undefined, {
    ifMatch: opts.ifMatch,
    ifNoneMatch: opts.ifNoneMatch,
  });
  sendXml(
    res,
    200,
    `<CopyObjectResult xmlns="${S3_NAMESPACE}">${el('LastModified', meta.lastModified)}${el('ETag', meta.etag)}</CopyObjectResult>`,
  );
  ctx.emit(objectCreated('ObjectCreated:Copy', r.bucket!, meta.key, meta, req.socket.remoteAddress));
}
