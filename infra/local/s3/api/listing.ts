/**
 * ListObjects (v1, markers) and ListObjectsV2 (continuation tokens): the request's parameters, the
 * page the store's scan yields (in S3's order, see ../store.ts compareKeys), and its XML.
 */
import type { ServerResponse } from 'node:http';
import { S3Error, type ObjectMeta } from '../store.js';
import type { S3Context } from './context.js';
import { sendXml } from './reply.js';
import type { Route } from './request.js';
import { el, LOCAL_OWNER, S3_NAMESPACE } from './xml.js';

/** S3's largest page (and the default). */
export const MAX_KEYS = 1000;

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

export function maxKeysOf(q: Map<string, string>): number {
  const raw = q.get('max-keys');
  if (raw === undefined) return MAX_KEYS;
  if (!/^\d+$/.test(raw)) {
    throw new S3Error('InvalidArgument', 400, 'Provided max-keys not an integer or within integer range', {
      ArgumentName: 'max-keys',
    });
  }
  return Math.min(MAX_KEYS, Number(raw));
}

/** The URL-encoding of listings with `encoding-type=url` (S3 keeps `/` as is). */
const urlEncode = (s: string) => encodeURIComponent(s).replace(/%2F/g, '/');

export interface ListingRequest {
  v2: boolean;
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  urlEncoding: boolean;
  /** v2: the token the client sent back. */
  token?: string;
  /** v2: start-after. */
  startAfter?: string;
  /** v1: marker. */
  marker?: string;
  /** The key (or common prefix) the page starts after. */
  after: string;
  /** Owners are listed by v1 always, by v2 only when asked. */
  withOwner: boolean;
}

/** The listing a query asks for; InvalidArgument for a bad max-keys, encoding-type or token. */
export function listingRequestOf(q: Map<string, string>): ListingRequest {
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
  const token = v2 ? q.get('continuation-token') : undefined;
  const startAfter = v2 ? q.get('start-after') : undefined;
  const marker = v2 ? undefined : q.get('marker');
  const after = token !== undefined ? decodeToken(token) : (startAfter ?? marker ?? '');
  const withOwner = !v2 || q.has('fetch-owner');
  return { v2, prefix, delimiter, maxKeys, urlEncoding, token, startAfter, marker, after, withOwner };
}

export interface ListingPage {
  /** Objects and common prefixes in listing order. */
  entries: Array<{ meta: ObjectMeta } | { commonPrefix: string }>;
  truncated: boolean;
}

/** The ListBucketResult document of a page. */
export function listingXml(bucket: string, l: ListingRequest, page: ListingPage): string {
  const enc = (s: string) => (l.urlEncoding ? urlEncode(s) : s);
  const contents: string[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  for (const item of page.entries) {
    if ('commonPrefix' in item) {
      prefixes.push(`<CommonPrefixes>${el('Prefix', enc(item.commonPrefix))}</CommonPrefixes>`);
      last = item.commonPrefix;
    } else {
      const m = item.meta;
      contents.push(
        `<Contents>${el('Key', enc(m.key))}${el('LastModified', m.lastModified)}${el('ETag', m.etag)}` +
          `${el('Size', m.size)}${l.withOwner ? LOCAL_OWNER : ''}` +
          `${el('StorageClass', 'STANDARD')}</Contents>`,
      );
      last = m.key;
    }
  }
  const truncated = page.truncated;
  const common =
    `${el('Name', bucket)}${el('Prefix', enc(l.prefix))}${el('MaxKeys', l.maxKeys)}` +
    `${l.delimiter !== undefined ? el('Delimiter', enc(l.delimiter)) : ''}` +
    `${l.urlEncoding ? el('EncodingType', 'url') : ''}${el('IsTruncated', truncated)}`;
  return l.v2
    ? `<ListBucketResult xmlns="${S3_NAMESPACE}">${common}${el('KeyCount', page.entries.length)}` +
        `${l.token !== undefined ? el('ContinuationToken', l.token) : ''}` +
        `${l.startAfter !== undefined ? el('StartAfter', enc(l.startAfter)) : ''}` +
        `${truncated && last !== undefined ? el('NextContinuationToken', encodeToken(last)) : ''}` +
        `${contents.join('')}${prefixes.join('')}</ListBucketResult>`
    : `<ListBucketResult xmlns="${S3_NAMESPACE}">${common}${el('Marker', enc(l.marker ?? ''))}` +
        // S3 sends NextMarker only with a delimiter; clients use the last key otherwise. Both work here.
        `${truncated && last !== undefined ? el('NextMarker', enc(last)) : ''}` +
        `${contents.join('')}${prefixes.join('')}</ListBucketResult>`;
}

export function listObjects(ctx: S3Context, res: ServerResponse, r: Route): void {
  const l = listingRequestOf(r.query);
  const page: ListingPage = { entries: [], truncated: false };
  // max-keys=0 asks for no key: an empty, untruncated page (S3's answer), not a truncated one
  // without a token to continue from.
  if (l.maxKeys === 0) {
    sendXml(res, 200, listingXml(r.bucket!, l, page));
    return;
  }
  ctx.store.scan(r.bucket!, { prefix: l.prefix, after: l.after, delimiter: l.delimiter }, (item) => {
    if (page.entries.length >= l.maxKeys) {
      page.truncated = true;
      return false;
    }
    page.entries.push('commonPrefix' in item ? { commonPrefix: item.commonPrefix } : { meta: item.meta });
    return true;
  });
  sendXml(res, 200, listingXml(r.bucket!, l, page));
}
