/**
 * Conditional requests and byte ranges of reads and copies: pure functions of the request's
 * headers and the object's metadata.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error, type ObjectMeta } from '../store.js';

/** The second-resolution of HTTP dates: a time within the same second is not "after". */
const HTTP_DATE_SLACK_MS = 999;

/**
 * If-Match / If-None-Match / If-(Un)Modified-Since of GET and HEAD: the status to answer with
 * (412 or 304), or undefined when the read goes ahead.
 */
export function readPrecondition(
  h: IncomingHttpHeaders,
  m: Pick<ObjectMeta, 'etag' | 'lastModified'>,
): 304 | 412 | undefined {
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
  if (Number.isFinite(since) && modified > since + HTTP_DATE_SLACK_MS) return 412;
  const ims = Date.parse(String(h['if-modified-since'] ?? ''));
  if (Number.isFinite(ims) && modified <= ims + HTTP_DATE_SLACK_MS && ifNoneMatch === undefined) return 304;
  return undefined;
}

/** x-amz-copy-source-if-match / -if-none-match of a copy: does the source qualify? */
export function copySourceQualifies(h: IncomingHttpHeaders, sourceEtag: string): boolean {
  const ifMatch = h['x-amz-copy-source-if-match'];
  const ifNoneMatch = h['x-amz-copy-source-if-none-match'];
  return !(
    (typeof ifMatch === 'string' && ifMatch !== sourceEtag) ||
    (typeof ifNoneMatch === 'string' && ifNoneMatch === sourceEtag)
  );
}

/**
 * The bytes a Range header (`bytes=a-b`, `bytes=a-`, `bytes=-n`) asks of an object of `size`
 * bytes, inclusive; undefined when the header is not a single byte range (the whole object is
 * sent, as S3 does). A range that starts past the end is S3's InvalidRange.
 */
export function byteRange(range: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || !(m[1] || m[2])) return undefined;
  let start: number;
  let end = size - 1;
  if (m[1]) {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  } else {
    start = Math.max(0, size - Number(m[2]));
  }
  if (start >= size || start > end) {
    throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', {
      RangeRequested: range,
      ActualObjectSize: String(size),
    });
  }
  return { start, end };
}
