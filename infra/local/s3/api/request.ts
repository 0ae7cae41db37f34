/**
 * Reading a request: its route (method, bucket, key, query) from a path-style URL, the options of
 * an object write from its headers, and small XML bodies. Keys are what follows the bucket, byte
 * for byte after percent-decoding: never paths.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { S3Error, type PutOptions } from '../store.js';
import { AwsChunkedDecoder, decodeAwsChunked } from './aws-chunked.js';

/** The largest XML request body read (batch delete of 1,000 keys of 1,024 bytes fits). */
const MAX_XML_BODY = 4 * 1024 * 1024;

export interface Route {
  method: string;
  bucket?: string;
  key?: string;
  query: Map<string, string>;
}

/** Percent-decoding of a URL path part; malformed input is S3's InvalidURI. */
export function decodePathPart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.");
  }
}

export function parseQuery(raw: string): Map<string, string> {
  const q = new Map<string, string>();
  if (!raw) return q;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodePathPart((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
    const value = eq < 0 ? '' : decodePathPart(part.slice(eq + 1).replace(/\+/g, ' '));
    q.set(name, value);
  }
  return q;
}

/** The route of a request line's method and target (`/bucket/key?query`). */
export function parseRoute(method: string | undefined, target: string | undefined): Route {
  const raw = target ?? '/';
  const qAt = raw.indexOf('?');
  const rawPath = qAt < 0 ? raw : raw.slice(0, qAt);
  const query = parseQuery(qAt < 0 ? '' : raw.slice(qAt + 1));
  // Only origin-form paths: no absolute URLs, no `*` (the key is what follows the bucket, byte
  // for byte after percent-decoding: `..` and `%2f` are characters of the key, not directions).
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.");
  const slash = rawPath.indexOf('/', 1);
  const bucketPart = slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash);
  const keyPart = slash < 0 ? '' : rawPath.slice(slash + 1);
  const bucket = bucketPart ? decodePathPart(bucketPart) : undefined;
  const key = keyPart ? decodePathPart(keyPart) : undefined;
  return { method: method ?? 'GET', bucket, key, query };
}

/** Headers kept with an object and sent back with it. */
const STORED_HEADERS = [
  'content-encoding',
  'content-disposition',
  'cache-control',
  'content-language',
  'expires',
];

/** Is the body aws-chunked (by its Content-Encoding, or a streaming signature)? */
const isAwsChunked = (h: IncomingHttpHeaders): boolean =>
  /aws-chunked/.test(String(h['content-encoding'] ?? '')) ||
  String(h['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');

/** A Content-MD5 header: the base64 of 16 bytes, else S3's InvalidDigest (not BadDigest: the
 * header is malformed, the body was not compared). */
function contentMd5Of(h: IncomingHttpHeaders): string | undefined {
  const v = h['content-md5'];
  if (typeof v !== 'string') return undefined;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(v.trim())) {
    throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.');
  }
  return v.trim();
}

/** What an object write (PUT, upload part, create multipart upload) asks of the store. */
export function putOptionsOf(h: IncomingHttpHeaders): PutOptions {
  const userMetadata: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith('x-amz-meta-') && typeof value === 'string') userMetadata[name.slice(11)] = value;
  }
  for (const name of STORED_HEADERS) {
    let v = h[name];
    if (typeof v !== 'string') continue;
    // aws-chunked is how the body travelled, not what it is.
    if (name === 'content-encoding') {
      v = v
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x && x !== 'aws-chunked')
        .join(', ');
      if (!v) continue;
    }
    headers[name] = v;
  }
  const chunked = isAwsChunked(h);
  const decoded = h['x-amz-decoded-content-length'];
  const length = chunked ? decoded : h['content-length'];
  return {
    contentType: typeof h['content-type'] === 'string' ? h['content-type'] : undefined,
    headers,
    userMetadata,
    contentMd5: contentMd5Of(h),
    expectedSize: typeof length === 'string' && /^\d+$/.test(length) ? Number(length) : undefined,
    ifNoneMatch: typeof h['if-none-match'] === 'string' ? h['if-none-match'] : undefined,
    ifMatch: typeof h['if-match'] === 'string' ? h['if-match'] : undefined,
    decode: chunked ? new AwsChunkedDecoder() : undefined,
  };
}

async function readSmallBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_XML_BODY)
        throw new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.');
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof S3Error) throw err;
    // The client went away mid-body (the socket's 'aborted'): its mistake, not the server's fault.
    throw new S3Error('IncompleteBody', 400, 'The request body ended before it was complete');
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Body of a small XML request that may arrive aws-chunked (by its Content-Encoding). */
export async function readXmlBody(req: IncomingMessage): Promise<string> {
  const text = await readSmallBody(req);
  const chunked = /aws-chunked/.test(String(req.headers['content-encoding'] ?? ''));
  if (!chunked) return text;
  return (await decodeAwsChunked(Buffer.from(text, 'utf8'))).toString('utf8');
}
