/**
 * Object operations: GET and HEAD (conditional, ranged, with response-header overrides), PUT
 * (streamed into the store; a PUT with x-amz-copy-source is a copy, see copy.ts) and DELETE.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { validateHeaderValue, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { S3Error, type ObjectMeta } from '../store.js';
import { byteRange, readPrecondition } from './conditions.js';
import type { S3Context } from './context.js';
import { preconditionFailed } from './errors.js';
import { objectCreated } from './events.js';
import { sendEmpty } from './reply.js';
import { putOptionsOf, type Route } from './request.js';

/** Query parameters of a GET that override the answer's headers. */
const RESPONSE_HEADER_OVERRIDES: ReadonlyArray<[query: string, header: string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-encoding', 'Content-Encoding'],
];

/** How many times a read looks the object up again when its file was replaced under it. */
const REPLACED_FILE_RETRIES = 3;

const httpDate = (iso: string) => new Date(iso).toUTCString();

/**
 * The header overrides a GET asks for (`response-content-type=…`), checked before anything is
 * opened: a value that cannot be a header (CR, LF, other controls, characters past Latin-1) is
 * the request's error (InvalidArgument), not a failure of the server half-way through the answer.
 */
function responseHeaderOverrides(query: Map<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [q, h] of RESPONSE_HEADER_OVERRIDES) {
    const v = query.get(q);
    if (v === undefined) continue;
    try {
      validateHeaderValue(h, v);
    } catch {
      throw new S3Error('InvalidArgument', 400, `Header value cannot be represented using ISO-8859-1.`, {
        ArgumentName: q,
      });
    }
    headers[h] = v;
  }
  return headers;
}

/** The headers an object is answered with: its ETag, dates, type, stored headers and metadata. */
function objectHeaders(m: ObjectMeta): Record<string, string> {
  const h: Record<string, string> = {
    ETag: m.etag,
    'Last-Modified': httpDate(m.lastModified),
    'Content-Type': m.contentType ?? 'binary/octet-stream',
    'Accept-Ranges': 'bytes',
    ...(m.headers ?? {}),
  };
  for (const [k, v] of Object.entries(m.userMetadata ?? {})) h[`x-amz-meta-${k}`] = v;
  return h;
}

/** A stream of bytes start..end of a file, or undefined for an empty object. */
async function openRead(
  file: string,
  start: number,
  end: number,
  length: number,
): Promise<ReadStream | undefined> {
  // Opening first turns a vanished file into ENOENT here, not a stream error mid-response.
  const handle = await open(file, 'r');
  if (length === 0) {
    await handle.close();
    return undefined;
  }
  return createReadStream('', { fd: handle, start, end, autoClose: true });
}

export async function getObject(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
): Promise<void> {
  const versionId = r.query.get('versionId');
  if (versionId !== undefined && versionId !== 'null') {
    throw new S3Error('InvalidArgument', 400, 'Invalid version id specified', { ArgumentName: 'versionId' });
  }
  const overrides = responseHeaderOverrides(r.query);
  for (let attempt = 0; ; attempt++) {
    const obj = ctx.store.head(r.bucket!, r.key!);
    const headers = { ...objectHeaders(obj), ...overrides };
    const pre = readPrecondition(req.headers, obj);
    if (pre === 412) throw preconditionFailed({ Condition: 'If-Match' });
    if (pre === 304)
      return sendEmpty(res, 304, { ETag: obj.etag, 'Last-Modified': headers['Last-Modified'] });
    let start = 0;
    let end = obj.size - 1;
    let status = 200;
    const range = req.headers.range;
    if (typeof range === 'string' && r.query.get('partNumber') === undefined) {
      const wanted = byteRange(range, obj.size);
      if (wanted) {
        ({ start, end } = wanted);
        status = 206;
        headers['Content-Range'] = `bytes ${start}-${end}/${obj.size}`;
      }
    }
    const length = obj.size === 0 ? 0 : end - start + 1;
    if (req.method === 'HEAD')
      return sendEmpty(res, status, { ...headers, 'Content-Length': String(length) });
    // The file may be replaced between the lookup and the open: look again.
    let stream;
    try {
      stream = await openRead(obj.dataPath, start, end, length);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < REPLACED_FILE_RETRIES) continue;
      throw err;
    }
    try {
      res.writeHead(status, { ...headers, 'Content-Length': String(length) });
    } catch (err) {
      stream?.destroy(); // the file is closed whatever happens to the answer
      throw err;
    }
    if (!stream) {
      res.end();
      return;
    }
    await pipeline(stream, res).catch(() => res.destroy());
    return;
  }
}

/** A plain PUT: the body streamed into the store. */
export async function putObject(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
): Promise<void> {
  const meta = await ctx.store.put(r.bucket!, r.key!, req, putOptionsOf(req.headers));
  sendEmpty(res, 200, { ETag: meta.etag, 'Content-Length': '0' });
  ctx.emit(objectCreated('ObjectCreated:Put', r.bucket!, meta.key, meta, req.socket.remoteAddress));
}

/** DELETE of one object: 204 whether or not it existed (as S3 answers); an event only if it did. */
export function deleteObject(ctx: S3Context, res: ServerResponse, r: Route): void {
  if (ctx.store.delete(r.bucket!, r.key!)) {
    ctx.emit({ eventName: 'ObjectRemoved:Delete', bucket: r.bucket!, key: r.key! });
  }
  sendEmpty(res, 204);
}
