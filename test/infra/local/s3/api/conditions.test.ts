/** Conditional reads, copy conditions and byte ranges, without a server. */
import { byteRange, copySourceQualifies, readPrecondition } from '#infra/local/s3/api/conditions.js';
import { codeOf } from './codes.js';

const meta = { etag: '"abc"', lastModified: '2026-01-01T12:00:00.500Z' };

describe('byte ranges', () => {
  it('reads first-last, open-ended and suffix ranges, clipped to the object', () => {
    expect(byteRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(byteRange(' bytes=90-200 ', 100)).toEqual({ start: 90, end: 99 });
    expect(byteRange('bytes=10-', 100)).toEqual({ start: 10, end: 99 });
    expect(byteRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(byteRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });

  it('ignores what is not one byte range (the whole object is sent)', () => {
    for (const r of ['bytes=-', 'bytes=abc', 'items=0-1', 'bytes=0-1,5-6', '']) {
      expect(byteRange(r, 100)).toBeUndefined();
    }
  });

  it('answers InvalidRange past the end, backwards, and for any range of an empty object', () => {
    expect(codeOf(() => byteRange('bytes=100-', 100))).toBe('InvalidRange');
    expect(codeOf(() => byteRange('bytes=5-2', 100))).toBe('InvalidRange');
    expect(codeOf(() => byteRange('bytes=0-', 0))).toBe('InvalidRange');
  });
});

describe('conditional reads', () => {
  it('If-Match and If-None-Match by ETag (lists and `*` too)', () => {
    expect(readPrecondition({}, meta)).toBeUndefined();
    expect(readPrecondition({ 'if-match': '"x", "abc"' }, meta)).toBeUndefined();
    expect(readPrecondition({ 'if-match': '"x"' }, meta)).toBe(412);
    expect(readPrecondition({ 'if-none-match': '"abc"' }, meta)).toBe(304);
    expect(readPrecondition({ 'if-none-match': '*' }, meta)).toBe(304);
    expect(readPrecondition({ 'if-none-match': '"x"' }, meta)).toBeUndefined();
  });

  it('dates compare at HTTP date resolution (the same second is not later)', () => {
    const sameSecond = 'Thu, 01 Jan 2026 12:00:00 GMT';
    expect(readPrecondition({ 'if-unmodified-since': sameSecond }, meta)).toBeUndefined();
    expect(readPrecondition({ 'if-unmodified-since': 'Thu, 01 Jan 2026 11:59:59 GMT' }, meta)).toBe(412);
    expect(readPrecondition({ 'if-modified-since': sameSecond }, meta)).toBe(304);
    expect(readPrecondition({ 'if-modified-since': 'Thu, 01 Jan 2026 11:59:59 GMT' }, meta)).toBeUndefined();
    // If-None-Match decides alone when both are sent.
    expect(
      readPrecondition({ 'if-modified-since': sameSecond, 'if-none-match': '"x"' }, meta),
    ).toBeUndefined();
    expect(readPrecondition({ 'if-modified-since': 'not a date' }, meta)).toBeUndefined();
  });

  it('copy conditions on the source ETag', () => {
    expect(copySourceQualifies({}, '"abc"')).toBe(true);
    expect(copySourceQualifies({ 'x-amz-copy-source-if-match': '"abc"' }, '"abc"')).toBe(true);
    expect(copySourceQualifies({ 'x-amz-copy-source-if-match': '"x"' }, '"abc"')).toBe(false);
    expect(copySourceQualifies({ 'x-amz-copy-source-if-none-match': '"abc"' }, '"abc"')).toBe(false);
  });
});
