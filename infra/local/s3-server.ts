/**
 * A small S3-compatible HTTP server over FileObjectStore: the subset of the S3 REST API that the
 * pipeline, the AWS SDK and the AWS CLI use, with path-style addressing (buckets, objects,
 * listings v1 and v2, copies, batch deletes, multipart uploads, ranges, conditional requests).
 *
 * Nothing a request sends can end the process: every request runs inside one error boundary that
 * answers with S3's XML error (its code and status), socket and parse errors close only that
 * connection, and keys are never paths (see s3-store.ts). Local mode has no credentials, so
 * browser form uploads (unauthenticated POSTs any web page could send) are refused.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileObjectStore, S3Error, validateKey, type ObjectMeta, type PutOptions } from './s3-store.js';

export interface S3Event {
  eventName:
    | 'ObjectCreated:Put'
    | 'ObjectCreated:Copy'
    | 'ObjectCreated:CompleteMultipartUpload'
    | 'ObjectRemoved:Delete';
  bucket: string;
  key: string;
  size?: number;
  /** Without quotes, as event records carry it. */
  eTag?: string;
  sourceIp?: string;
}

export interface S3ServerOptions {
  host: string;
  port: number;
  store: FileObjectStore;
  /** Called after each change, in order. Errors thrown here are the caller's: they are caught. */
  onEvent?: (event: S3Event) => void;
  /** Called with what went wrong inside the server (a bug, never a client's mistake). */
  onInternalError?: (err: unknown) => void;
}

export interface RunningS3Server {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const MAX_XML_BODY = 4 * 1024 * 1024;
const MAX_KEYS = 1000;

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** XML text: the five entities, and control characters as character references (as S3 does). */
// eslint-disable-next-line no-control-regex -- control characters are what this escapes
const XML_SPECIAL = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

export function xmlEscape(s: string): string {
  return s.replace(XML_SPECIAL, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

const el = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? '' : `<${name}>${xmlEscape(String(value))}</${name}>`;

/** Values of `<name>…</name>` in a (trusted-shape, untrusted-content) XML body. */
function xmlValues(body: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  for (let m = re.exec(body); m; m = re.exec(body)) out.push(xmlUnescape(m[1]));
  return out;
}

function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    switch (e) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const n = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return n <= 0x10ffff ? String.fromCodePoint(n) : '';
      }
    }
  });
}

/**
 * Decodes an `aws-chunked` request body (what SDKs send for streaming uploads with checksums or
 * chunk signatures): `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0…\r\n<trailers>\r\n`.
 */
export class AwsChunkedDecoder extends Transform {
  private buffer: Buffer = Buffer.alloc(0);
  private remaining = -1;
  private done = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.done) return callback();
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    try {
      for (;;) {
        if (this.remaining < 0) {
          const eol = this.buffer.indexOf('\r\n');
          if (eol < 0) {
            if (this.buffer.length > 4096) throw new Error('chunk header too long');
            break;
          }
          const header = this.buffer.subarray(0, eol).toString('latin1');
          const size = parseInt(header.split(';')[0], 16);
          if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+$/.test(header.split(';')[0])) {
            throw new Error('bad chunk header');
          }
          this.buffer = this.buffer.subarray(eol + 2);
          if (size === 0) {
            this.done = true; // trailers (checksums) follow: not needed, the store hashes itself
            this.buffer = Buffer.alloc(0);
            break;
          }
          this.remaining = size;
        }
        if (this.buffer.length === 0) break;
        if (this.remaining > 0) {
          const take = Math.min(this.remaining, this.buffer.length);
          this.push(this.buffer.subarray(0, take));
          this.buffer = this.buffer.subarray(take);
          this.remaining -= take;
        }
        if (this.remaining === 0) {
          if (this.buffer.length < 2) break;
          if (this.buffer[0] !== 13 || this.buffer[1] !== 10) throw new Error('missing chunk terminator');
          this.buffer = this.buffer.subarray(2);
          this.remaining = -1;
        }
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.done ? null : new Error('aws-chunked body ended early'));
  }
}

/** Percent-decoding of a URL path part; malformed input is S3's InvalidURI. */
function decodePathPart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.");
  }
}

function parseQuery(raw: string): Map<string, string> {
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

const httpDate = (iso: string) => new Date(iso).toUTCString();
const requestId = () => randomBytes(8).toString('hex').toUpperCase();

/** The URL-encoding of listings with `encoding-type=url` (S3 keeps `/` as is). */
const urlEncode = (s: string) => encodeURIComponent(s).replace(/%2F/g, '/');

/** Opaque continuation tokens: the position to resume after, base64url (no cipher needed). */
export function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after }), 'utf8').toString('base64url');
}
export function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: number;
      after?: unknown;
    };
    if (parsed.v === 1 && typeof parsed.after === 'string') return parsed.after;
  } catch {
    /* fall through */
  }
  throw new S3Error('InvalidArgument', 400, 'The continuation token provided is incorrect', {
    ArgumentName: 'continuation-token',
  });
}

function maxKeysOf(q: Map<string, string>): number {
  const raw = q.get('max-keys');
  if (raw === undefined) return MAX_KEYS;
  if (!/^\d+$/.test(raw)) {
    throw new S3Error('InvalidArgument', 400, 'Provided max-keys not an integer or within integer range', {
      ArgumentName: 'max-keys',
    });
  }
  return Math.min(MAX_KEYS, Number(raw));
}

const STORED_HEADERS = [
  'content-encoding',
  'content-disposition',
  'cache-control',
  'content-language',
  'expires',
];

function putOptionsOf(req: IncomingMessage): PutOptions {
  const h = req.headers;
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
  const chunked =
    /aws-chunked/.test(String(h['content-encoding'] ?? '')) ||
    String(h['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
  const decoded = h['x-amz-decoded-content-length'];
  const length = chunked ? decoded : h['content-length'];
  return {
    contentType: typeof h['content-type'] === 'string' ? h['content-type'] : undefined,
    headers,
    userMetadata,
    contentMd5: typeof h['content-md5'] === 'string' ? h['content-md5'] : undefined,
    expectedSize: typeof length === 'string' && /^\d+$/.test(length) ? Number(length) : undefined,
    ifNoneMatch: typeof h['if-none-match'] === 'string' ? h['if-none-match'] : undefined,
    ifMatch: typeof h['if-match'] === 'string' ? h['if-match'] : undefined,
    decode: chunked ? new AwsChunkedDecoder() : undefined,
  };
}

async function readSmallBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_XML_BODY) throw new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Body of a small XML request that may arrive aws-chunked. */
async function readXmlBody(req: IncomingMessage): Promise<string> {
  const text = await readSmallBody(req);
  const chunked = /aws-chunked/.test(String(req.headers['content-encoding'] ?? ''));
  if (!chunked) return text;
  const decoder = new AwsChunkedDecoder();
  const parts: Buffer[] = [];
  decoder.on('data', (b: Buffer) => parts.push(b));
  await new Promise<void>((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
    decoder.end(Buffer.from(text, 'utf8'));
  });
  return Buffer.concat(parts).toString('utf8');
}

interface Route {
  method: string;
  bucket?: string;
  key?: string;
  query: Map<string, string>;
}

function parseRoute(req: IncomingMessage): Route {
  const raw = req.url ?? '/';
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
  return { method: req.method ?? 'GET', bucket, key, query };
}

const LOOPBACK_NAMES = /^(?:localhost|[a-z0-9-]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** Is a Host header (`name[:port]`) a loopback name? A missing header (HTTP/1.0) passes. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return true;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return LOOPBACK_NAMES.test(name);
}

export function startS3Server(opts: S3ServerOptions): Promise<RunningS3Server> {
  const { store } = opts;
  const loopbackOnly = LOOPBACK_NAMES.test(opts.host) || opts.host === '::1';
  const emit = (event: S3Event) => {
    try {
      opts.onEvent?.(event);
    } catch (err) {
      opts.onInternalError?.(err);
    }
  };

  const sendXml = (
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    const buf = Buffer.from(XML_HEAD + body, 'utf8');
    res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': buf.length, ...headers });
    res.end(buf);
  };

  const sendError = (req: IncomingMessage, res: ServerResponse, err: S3Error, route?: Partial<Route>) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const detail = Object.entries(err.detail)
      .filter(([k]) => k !== 'Key' && k !== 'BucketName')
      .map(([k, v]) => el(k, v))
      .join('');
    const body =
      `<Error>${el('Code', err.code)}${el('Message', err.message)}` +
      `${route?.key !== undefined ? el('Key', route.key.slice(0, 2048)) : ''}` +
      `${route?.bucket !== undefined ? el('BucketName', route.bucket.slice(0, 256)) : ''}` +
      `${detail}${el('RequestId', res.getHeader('x-amz-request-id') as string)}</Error>`;
    // A request body the handler did not read must not be parsed as the next request.
    if (!req.complete) res.setHeader('Connection', 'close');
    if (req.method === 'HEAD') {
      res.writeHead(err.status, { 'x-amz-error-code': err.code });
      res.end();
    } else sendXml(res, err.status, body);
  };

  const objectHeaders = (m: ObjectMeta): Record<string, string> => {
    const h: Record<string, string> = {
      ETag: m.etag,
      'Last-Modified': httpDate(m.lastModified),
      'Content-Type': m.contentType ?? 'binary/octet-stream',
      'Accept-Ranges': 'bytes',
      ...(m.headers ?? {}),
    };
    for (const [k, v] of Object.entries(m.userMetadata ?? {})) h[`x-amz-meta-${k}`] = v;
    return h;
  };

  /** If-Match / If-None-Match / If-(Un)Modified-Since of GET and HEAD: a status to answer with, or undefined. */
  const readPrecondition = (req: IncomingMessage, m: ObjectMeta): number | undefined => {
    const h = req.headers;
    const ifMatch = h['if-match'];
    if (
      typeof ifMatch === 'string' &&
      !ifMatch.split(',').some((e) => e.trim() === '*' || e.trim() === m.etag)
    ) {
      return 412;
    }
    const ifNoneMatch = h['if-none-match'];
    if (
      typeof ifNoneMatch === 'string' &&
      ifNoneMatch.split(',').some((e) => e.trim() === '*' || e.trim() === m.etag)
    ) {
      return 304;
    }
    const modified = Date.parse(m.lastModified);
    const since = Date.parse(String(h['if-unmodified-since'] ?? ''));
    if (Number.isFinite(since) && modified > since + 999) return 412;
    const ims = Date.parse(String(h['if-modified-since'] ?? ''));
    if (Number.isFinite(ims) && modified <= ims + 999 && ifNoneMatch === undefined) return 304;
    return undefined;
  };

  async function getObject(req: IncomingMessage, res: ServerResponse, r: Route): Promise<void> {
    const versionId = r.query.get('versionId');
    if (versionId !== undefined && versionId !== 'null') {
      throw new S3Error('InvalidArgument', 400, 'Invalid version id specified', {
        ArgumentName: 'versionId',
      });
    }
    for (let attempt = 0; ; attempt++) {
      const obj = store.head(r.bucket!, r.key!);
      const headers = objectHeaders(obj);
      for (const [q, h] of [
        ['response-content-type', 'Content-Type'],
        ['response-content-disposition', 'Content-Disposition'],
        ['response-cache-control', 'Cache-Control'],
        ['response-content-encoding', 'Content-Encoding'],
      ]) {
        const v = r.query.get(q);
        if (v !== undefined) headers[h] = v;
      }
      const pre = readPrecondition(req, obj);
      if (pre === 412) {
        throw new S3Error(
          'PreconditionFailed',
          412,
          'At least one of the pre-conditions you specified did not hold',
          {
            Condition: 'If-Match',
          },
        );
      }
      if (pre === 304) {
        res.writeHead(304, { ETag: obj.etag, 'Last-Modified': headers['Last-Modified'] });
        res.end();
        return;
      }
      let start = 0;
      let end = obj.size - 1;
      let status = 200;
      const range = req.headers.range;
      if (typeof range === 'string' && r.query.get('partNumber') === undefined) {
        const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
        if (m && (m[1] || m[2])) {
          if (m[1]) {
            start = Number(m[1]);
            end = m[2] ? Math.min(Number(m[2]), obj.size - 1) : obj.size - 1;
          } else {
            start = Math.max(0, obj.size - Number(m[2]));
          }
          if (start >= obj.size || start > end) {
            throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', {
              RangeRequested: range,
              ActualObjectSize: String(obj.size),
            });
          }
          status = 206;
          headers['Content-Range'] = `bytes ${start}-${end}/${obj.size}`;
        }
      }
      const length = obj.size === 0 ? 0 : end - start + 1;
      if (req.method === 'HEAD') {
        res.writeHead(status, { ...headers, 'Content-Length': String(length) });
        res.end();
        return;
      }
      // The file may be replaced between the lookup and the open: look again once.
      let stream;
      try {
        stream = await openRead(obj.dataPath, start, end, length);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
        throw err;
      }
      res.writeHead(status, { ...headers, 'Content-Length': String(length) });
      if (!stream) {
        res.end();
        return;
      }
      await pipeline(stream, res).catch(() => res.destroy());
      return;
    }
  }

  async function putObject(req: IncomingMessage, res: ServerResponse, r: Route): Promise<void> {
    const copySource = req.headers['x-amz-copy-source'];
    if (typeof copySource === 'string') return copyObject(req, res, r, copySource);
    const meta = await store.put(r.bucket!, r.key!, req, putOptionsOf(req));
    res.writeHead(200, { ETag: meta.etag, 'Content-Length': '0' });
    res.end();
    emit({
      eventName: 'ObjectCreated:Put',
      bucket: r.bucket!,
      key: meta.key,
      size: meta.size,
      eTag: meta.etag.slice(1, -1),
      sourceIp: req.socket.remoteAddress,
    });
  }

  async function copyObject(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    source: string,
  ): Promise<void> {
    const raw = source.split('?')[0].replace(/^\//, '');
    const slash = raw.indexOf('/');
    if (slash <= 0)
      throw new S3Error(
        'InvalidArgument',
        400,
        'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
        { ArgumentName: 'x-amz-copy-source' },
      );
    const src = { bucket: decodePathPart(raw.slice(0, slash)), key: decodePathPart(raw.slice(slash + 1)) };
    validateKey(src.key);
    const srcMeta = store.head(src.bucket, src.key);
    const h = req.headers;
    const ifMatch = h['x-amz-copy-source-if-match'];
    const ifNoneMatch = h['x-amz-copy-source-if-none-match'];
    if (
      (typeof ifMatch === 'string' && ifMatch !== srcMeta.etag) ||
      (typeof ifNoneMatch === 'string' && ifNoneMatch === srcMeta.etag)
    ) {
      throw new S3Error(
        'PreconditionFailed',
        412,
        'At least one of the pre-conditions you specified did not hold',
      );
    }
    const replace = String(h['x-amz-metadata-directive'] ?? 'COPY').toUpperCase() === 'REPLACE';
    if (!replace && src.bucket === r.bucket && src.key === r.key) {
      throw new S3Error(
        'InvalidRequest',
        400,
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const opts = putOptionsOf(req);
    const meta = store.copy(src, { bucket: r.bucket!, key: r.key! }, replace ? opts : undefined, {
      ifMatch: opts.ifMatch,
      ifNoneMatch: opts.ifNoneMatch,
    });
    sendXml(
      res,
      200,
      `<CopyObjectResult xmlns="${NS}">${el('LastModified', meta.lastModified)}${el('ETag', meta.etag)}</CopyObjectResult>`,
    );
    emit({
      eventName: 'ObjectCreated:Copy',
      bucket: r.bucket!,
      key: meta.key,
      size: meta.size,
      eTag: meta.etag.slice(1, -1),
      sourceIp: req.socket.remoteAddress,
    });
  }

  function listObjects(res: ServerResponse, r: Route): void {
    const q = r.query;
    const v2 = q.get('list-type') === '2';
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') || undefined;
    const maxKeys = maxKeysOf(q);
    const urlEncoding = q.get('encoding-type') === 'url';
    if (q.has('encoding-type') && !urlEncoding) {
      throw new S3Error('InvalidArgument', 400, 'Invalid Encoding Method specified in Request', {
        ArgumentName: 'encoding-type',
      });
    }
    const enc = (s: string) => (urlEncoding ? urlEncode(s) : s);
    const token = v2 ? q.get('continuation-token') : undefined;
    const startAfter = v2 ? q.get('start-after') : undefined;
    const marker = v2 ? undefined : q.get('marker');
    const after = token !== undefined ? decodeToken(token) : (startAfter ?? marker ?? '');

    const contents: string[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    let truncated = false;
    let count = 0;
    store.scan(r.bucket!, { prefix, after, delimiter }, (item) => {
      if (count >= maxKeys) {
        truncated = true;
        return false;
      }
      count++;
      if ('commonPrefix' in item) {
        prefixes.push(`<CommonPrefixes>${el('Prefix', enc(item.commonPrefix))}</CommonPrefixes>`);
        last = item.commonPrefix;
      } else {
        const m = item.meta;
        contents.push(
          `<Contents>${el('Key', enc(m.key))}${el('LastModified', m.lastModified)}${el('ETag', m.etag)}` +
            `${el('Size', m.size)}${v2 && !q.has('fetch-owner') ? '' : '<Owner><ID>local</ID><DisplayName>local</DisplayName></Owner>'}` +
            `${el('StorageClass', 'STANDARD')}</Contents>`,
        );
        last = m.key;
      }
      return true;
    });
    const common =
      `${el('Name', r.bucket)}${el('Prefix', enc(prefix))}${el('MaxKeys', maxKeys)}` +
      `${delimiter !== undefined ? el('Delimiter', enc(delimiter)) : ''}` +
      `${urlEncoding ? el('EncodingType', 'url') : ''}${el('IsTruncated', truncated)}`;
    const body = v2
      ? `<ListBucketResult xmlns="${NS}">${common}${el('KeyCount', count)}` +
        `${token !== undefined ? el('ContinuationToken', token) : ''}` +
        `${startAfter !== undefined ? el('StartAfter', enc(startAfter)) : ''}` +
        `${truncated && last !== undefined ? el('NextContinuationToken', encodeToken(last)) : ''}` +
        `${contents.join('')}${prefixes.join('')}</ListBucketResult>`
      : `<ListBucketResult xmlns="${NS}">${common}${el('Marker', enc(marker ?? ''))}` +
        // S3 sends NextMarker only with a delimiter; clients use the last key otherwise. Both work here.
        `${truncated && last !== undefined ? el('NextMarker', enc(last)) : ''}` +
        `${contents.join('')}${prefixes.join('')}</ListBucketResult>`;
    sendXml(res, 200, body);
  }

  async function deleteObjects(req: IncomingMessage, res: ServerResponse, r: Route): Promise<void> {
    const body = await readXmlBody(req);
    const objects = [...body.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((m) => xmlValues(m[1], 'Key')[0]);
    if (!/<Delete[\s>]/.test(body) || objects.length === 0 || objects.some((k) => k === undefined)) {
      throw new S3Error(
        'MalformedXML',
        400,
        'The XML you provided was not well-formed or did not validate against our published schema',
      );
    }
    if (objects.length > 1000) {
      throw new S3Error(
        'MalformedXML',
        400,
        'The XML you provided was not well-formed or did not validate against our published schema',
      );
    }
    const quiet = xmlValues(body, 'Quiet')[0]?.trim().toLowerCase() === 'true';
    const out: string[] = [];
    for (const key of objects) {
      try {
        if (store.delete(r.bucket!, key)) emit({ eventName: 'ObjectRemoved:Delete', bucket: r.bucket!, key });
        if (!quiet) out.push(`<Deleted>${el('Key', key)}</Deleted>`);
      } catch (err) {
        const e =
          err instanceof S3Error
            ? err
            : new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.');
        out.push(`<Error>${el('Key', key)}${el('Code', e.code)}${el('Message', e.message)}</Error>`);
      }
    }
    sendXml(res, 200, `<DeleteResult xmlns="${NS}">${out.join('')}</DeleteResult>`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a web page whose name resolves to 127.0.0.1 would otherwise reach this
    // server as its own origin. On a loopback address, only loopback names are served.
    if (loopbackOnly && !isLoopbackHost(req.headers.host)) {
      throw new S3Error(
        'AccessDenied',
        403,
        'This local S3 server answers requests for 127.0.0.1, ::1 and localhost only.',
      );
    }
    const r = parseRoute(req);
    const { method, bucket, key, query: q } = r;
    if (!bucket) {
      if (method === 'GET') {
        const list = store
          .listBuckets()
          .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', b.created)}</Bucket>`)
          .join('');
        return sendXml(
          res,
          200,
          `<ListAllMyBucketsResult xmlns="${NS}"><Owner><ID>local</ID><DisplayName>local</DisplayName></Owner><Buckets>${list}</Buckets></ListAllMyBucketsResult>`,
        );
      }
      throw new S3Error(
        'MethodNotAllowed',
        405,
        'The specified method is not allowed against this resource.',
      );
    }
    if (method === 'OPTIONS') {
      throw new S3Error('CORSResponse', 403, 'CORS is not enabled for this bucket.');
    }
    if (key === undefined) {
      // Bucket operations.
      if (method === 'PUT' && q.size === 0) {
        store.createBucket(bucket);
        res.writeHead(200, { Location: `/${bucket}`, 'Content-Length': '0' });
        return void res.end();
      }
      if (!store.hasBucket(bucket)) {
        throw new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket });
      }
      if (method === 'HEAD') {
        res.writeHead(200, { 'x-amz-bucket-region': 'us-east-1' });
        return void res.end();
      }
      if (method === 'DELETE' && q.size === 0) {
        store.deleteBucket(bucket);
        res.writeHead(204);
        return void res.end();
      }
      if ((method === 'PUT' || method === 'DELETE') && q.size > 0) throw notImplemented([...q.keys()][0]);
      if (method === 'POST' && q.has('delete')) return deleteObjects(req, res, r);
      if (method === 'POST') {
        throw new S3Error(
          'AccessDenied',
          403,
          'Browser-based (form POST) uploads are not accepted by the local S3 server: it has no credentials to check them.',
        );
      }
      if (method === 'GET') {
        if (q.has('location'))
          return sendXml(res, 200, `<LocationConstraint xmlns="${NS}"></LocationConstraint>`);
        if (q.has('versioning'))
          return sendXml(res, 200, `<VersioningConfiguration xmlns="${NS}"></VersioningConfiguration>`);
        if (q.has('uploads')) {
          return sendXml(
            res,
            200,
            `<ListMultipartUploadsResult xmlns="${NS}">${el('Bucket', bucket)}<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`,
          );
        }
        const unsupported = [...q.keys()].find((k) => SUBRESOURCES.has(k));
        if (unsupported) throw notImplemented(unsupported);
        return listObjects(res, r);
      }
      throw new S3Error(
        'MethodNotAllowed',
        405,
        'The specified method is not allowed against this resource.',
      );
    }

    // Object operations.
    validateKey(key);
    if (!store.hasBucket(bucket)) {
      throw new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket });
    }
    const unsupported = [...q.keys()].find((k) => SUBRESOURCES.has(k));
    if (unsupported) throw notImplemented(unsupported);
    const uploadId = q.get('uploadId');
    switch (method) {
      case 'GET':
      case 'HEAD':
        if (uploadId !== undefined) throw notImplemented('ListParts');
        return getObject(req, res, r);
      case 'PUT': {
        if (uploadId !== undefined) {
          if (req.headers['x-amz-copy-source']) throw notImplemented('UploadPartCopy');
          const etag = await store.uploadPart(
            bucket,
            key,
            uploadId,
            Number(q.get('partNumber')),
            req,
            putOptionsOf(req),
          );
          res.writeHead(200, { ETag: etag, 'Content-Length': '0' });
          return void res.end();
        }
        return putObject(req, res, r);
      }
      case 'DELETE': {
        if (uploadId !== undefined) {
          store.abortUpload(bucket, key, uploadId);
        } else if (store.delete(bucket, key)) {
          emit({ eventName: 'ObjectRemoved:Delete', bucket, key });
        }
        res.writeHead(204);
        return void res.end();
      }
      case 'POST': {
        if (q.has('uploads')) {
          const id = store.createUpload(bucket, key, putOptionsOf(req));
          return sendXml(
            res,
            200,
            `<InitiateMultipartUploadResult xmlns="${NS}">${el('Bucket', bucket)}${el('Key', key)}${el('UploadId', id)}</InitiateMultipartUploadResult>`,
          );
        }
        if (uploadId !== undefined) {
          const body = await readXmlBody(req);
          const parts = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
            partNumber: Number(xmlValues(m[1], 'PartNumber')[0]),
            etag: (xmlValues(m[1], 'ETag')[0] ?? '').trim(),
          }));
          const meta = await store.completeUpload(bucket, key, uploadId, parts);
          sendXml(
            res,
            200,
            `<CompleteMultipartUploadResult xmlns="${NS}">${el('Location', `/${bucket}/${key}`)}${el('Bucket', bucket)}${el('Key', key)}${el('ETag', meta.etag)}</CompleteMultipartUploadResult>`,
          );
          emit({
            eventName: 'ObjectCreated:CompleteMultipartUpload',
            bucket,
            key,
            size: meta.size,
            eTag: meta.etag.slice(1, -1),
            sourceIp: req.socket.remoteAddress,
          });
          return;
        }
        throw new S3Error(
          'MethodNotAllowed',
          405,
          'The specified method is not allowed against this resource.',
        );
      }
      default:
        throw new S3Error(
          'MethodNotAllowed',
          405,
          'The specified method is not allowed against this resource.',
        );
    }
  }

  const server = createServer({ requestTimeout: 60 * 60 * 1000 }, (req, res) => {
    res.setHeader('x-amz-request-id', requestId());
    res.setHeader('Server', 'facerec-local-s3');
    // Aborted uploads and broken sockets are that request's end, never the process's.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    let route: Partial<Route> | undefined;
    try {
      route = parseRoute(req);
    } catch {
      /* reported by handle() */
    }
    handle(req, res)
      .catch((err: unknown) => {
        if (err instanceof S3Error) return sendError(req, res, err, route);
        const code = (err as NodeJS.ErrnoException)?.code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          return sendError(req, res, new S3Error('InternalError', 500, 'The local disk is full.'), route);
        }
        if (code === 'ENAMETOOLONG' || code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
          opts.onInternalError?.(err);
          return sendError(
            req,
            res,
            new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
            route,
          );
        }
        opts.onInternalError?.(err);
        sendError(
          req,
          res,
          new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
          route,
        );
      })
      .catch(() => res.destroy());
  });
  // Malformed HTTP, oversized headers, resets: close that connection only.
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      server.on('error', (err) => opts.onInternalError?.(err));
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${opts.host}:${port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** Sub-resources of the S3 API this server does not implement (answered NotImplemented rather than
 * mistaken for a plain GET/PUT of the object or bucket). */
const SUBRESOURCES = new Set([
  'acl',
  'policy',
  'cors',
  'lifecycle',
  'notification',
  'tagging',
  'website',
  'logging',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'versions',
  'attributes',
  'accelerate',
  'requestPayment',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
  'intelligent-tiering',
]);

function notImplemented(what: string): S3Error {
  return new S3Error(
    'NotImplemented',
    501,
    `A header or query you provided implies functionality that is not implemented (${what}).`,
  );
}

async function openRead(file: string, start: number, end: number, length: number) {
  const { open } = await import('node:fs/promises');
  // Opening first turns a vanished file into ENOENT here, not a stream error mid-response.
  const handle = await open(file, 'r');
  if (length === 0) {
    await handle.close();
    return undefined;
  }
  return createReadStream('', { fd: handle, start, end, autoClose: true });
}
