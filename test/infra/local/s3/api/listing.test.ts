/** Listing parameters, continuation tokens and the ListBucketResult document, without a server. */
import {
  decodeToken,
  encodeToken,
  listingRequestOf,
  listingXml,
  MAX_KEYS,
  maxKeysOf,
  type ListingPage,
} from '#infra/local/s3/api/listing.js';
import { parseQuery } from '#infra/local/s3/api/request.js';
import type { ObjectMeta } from '#infra/local/s3/store.js';
import { xmlValues } from '#infra/local/s3/api/xml.js';
import { codeOf } from './codes.js';

const meta = (key: string): ObjectMeta => ({
  key,
  size: 3,
  etag: '"e"',
  lastModified: '2026-01-01T00:00:00.000Z',
  dataFile: 'x.data',
});

describe('listing requests', () => {
  it('continuation tokens round-trip any key; anything else is InvalidArgument', () => {
    for (const key of ['', 'a/b.mp4', '../../x', 'ü 😀 &<>', 'k'.repeat(1024)]) {
      expect(decodeToken(encodeToken(key))).toBe(key);
    }
    for (const bad of [
      'garbage',
      '',
      encodeToken('x').slice(0, -3),
      Buffer.from('{"v":2,"after":"x"}').toString('base64url'),
    ]) {
      expect(codeOf(() => decodeToken(bad))).toBe('InvalidArgument');
    }
  });

  it('max-keys: default and ceiling 1,000; not a number is InvalidArgument', () => {
    expect(maxKeysOf(parseQuery(''))).toBe(MAX_KEYS);
    expect(maxKeysOf(parseQuery('max-keys=0'))).toBe(0);
    expect(maxKeysOf(parseQuery('max-keys=5000'))).toBe(MAX_KEYS);
    expect(codeOf(() => maxKeysOf(parseQuery('max-keys=-1')))).toBe('InvalidArgument');
    expect(codeOf(() => maxKeysOf(parseQuery('max-keys=1e3')))).toBe('InvalidArgument');
  });

  it('v2 resumes after the token, else start-after; v1 after the marker; only v1 lists owners unasked', () => {
    const v2 = listingRequestOf(
      parseQuery(`list-type=2&start-after=b&continuation-token=${encodeToken('c')}`),
    );
    expect(v2).toMatchObject({ v2: true, after: 'c', withOwner: false });
    expect(listingRequestOf(parseQuery('list-type=2&start-after=b&marker=m'))).toMatchObject({
      after: 'b',
      marker: undefined,
    });
    expect(listingRequestOf(parseQuery('list-type=2&fetch-owner=true')).withOwner).toBe(true);
    expect(listingRequestOf(parseQuery('marker=m&start-after=b'))).toMatchObject({
      v2: false,
      after: 'm',
      withOwner: true,
    });
    expect(listingRequestOf(parseQuery('delimiter=')).delimiter).toBeUndefined();
    expect(codeOf(() => listingRequestOf(parseQuery('encoding-type=base64')))).toBe('InvalidArgument');
  });
});

describe('the ListBucketResult document', () => {
  const page: ListingPage = {
    entries: [{ meta: meta('a b&c') }, { commonPrefix: 'dir one/' }],
    truncated: true,
  };

  it('v2: KeyCount counts keys and prefixes; the next token resumes after the last entry', () => {
    const xml = listingXml('bkt', listingRequestOf(parseQuery('list-type=2&delimiter=/&max-keys=2')), page);
    expect(xmlValues(xml, 'KeyCount')).toEqual(['2']);
    expect(xmlValues(xml, 'IsTruncated')).toEqual(['true']);
    expect(decodeToken(xmlValues(xml, 'NextContinuationToken')[0])).toBe('dir one/');
    expect(xmlValues(xml, 'Key')).toEqual(['a b&c']);
    expect(xml).not.toContain('<Owner>');
  });

  it('v1 with encoding-type=url: keys, prefixes and NextMarker URL-encoded, `/` kept', () => {
    const xml = listingXml('bkt', listingRequestOf(parseQuery('encoding-type=url&marker=a')), page);
    expect(xmlValues(xml, 'Key')).toEqual(['a%20b%26c']);
    expect(xmlValues(xml, 'Prefix')).toEqual(['', 'dir%20one/']);
    expect(xmlValues(xml, 'NextMarker')).toEqual(['dir%20one/']);
    expect(xmlValues(xml, 'Marker')).toEqual(['a']);
    expect(xml).toContain('<Owner>');
  });

  it('an untruncated page names no next position', () => {
    const xml = listingXml('bkt', listingRequestOf(parseQuery('list-type=2')), {
      entries: [],
      truncated: false,
    });
    expect(xml).not.toContain('NextContinuationToken');
    expect(xmlValues(xml, 'KeyCount')).toEqual(['0']);
  });
});
