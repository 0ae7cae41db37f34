/** Reading routes and write options from requests, without a server. */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { parseQuery, parseRoute, putOptionsOf, readXmlBody } from '#infra/local/s3/api/request.js';
import { codeOf } from './codes.js';

describe('request routes', () => {
  it('takes the bucket and the key byte for byte: `..` and `%2f` are characters of the key', () => {
    expect(parseRoute('GET', '/bucket/..%2f..%2foutside')).toMatchObject({
      method: 'GET',
      bucket: 'bucket',
      key: '../../outside',
    });
    expect(parseRoute('PUT', '/bucket/a/b//c.mp4')).toMatchObject({ bucket: 'bucket', key: 'a/b//c.mp4' });
    expect(parseRoute('GET', '/bucket')).toMatchObject({ bucket: 'bucket', key: undefined });
    expect(parseRoute('GET', '/bucket/')).toMatchObject({ bucket: 'bucket', key: undefined });
    expect(parseRoute(undefined, undefined)).toMatchObject({
      method: 'GET',
      bucket: undefined,
      key: undefined,
    });
  });

  it('answers InvalidURI for absolute URLs, `*` and malformed percent-encoding', () => {
    expect(codeOf(() => parseRoute('GET', 'http://evil.example/bucket/key'))).toBe('InvalidURI');
    expect(codeOf(() => parseRoute('OPTIONS', '*'))).toBe('InvalidURI');
    expect(codeOf(() => parseRoute('GET', '/bucket/%zz'))).toBe('InvalidURI');
    expect(codeOf(() => parseRoute('GET', '/bucket/key?a=%E0%A4%A'))).toBe('InvalidURI');
  });

  it('reads queries with `+` as space, valueless names and the last of repeated names', () => {
    const q = parseQuery('list-type=2&prefix=a+b%2Fc&delete&&prefix=last');
    expect([...q]).toEqual([
      ['list-type', '2'],
      ['prefix', 'last'],
      ['delete', ''],
    ]);
  });
});

describe('object write options', () => {
  it('keeps metadata and stored headers, and strips aws-chunked from the content encoding', () => {
    const opts = putOptionsOf({
      'content-type': 'video/mp4',
      'content-encoding': 'gzip, aws-chunked',
      'cache-control': 'no-cache',
      'x-amz-meta-owner': 'ana',
      'x-amz-decoded-content-length': '42',
      'content-length': '99',
      'if-none-match': '*',
    });
    expect(opts).toMatchObject({
      contentType: 'video/mp4',
      headers: { 'content-encoding': 'gzip', 'cache-control': 'no-cache' },
      userMetadata: { owner: 'ana' },
      expectedSize: 42,
      ifNoneMatch: '*',
    });
    expect(opts.decode).toBeDefined();
  });

  it('a plain body: Content-Length is the expected size, nothing to decode', () => {
    const opts = putOptionsOf({ 'content-length': '7', 'content-encoding': 'aws-chunked' });
    expect(opts.headers).toEqual({});
    expect(opts.expectedSize).toBeUndefined(); // chunked without a decoded length
    const plain = putOptionsOf({ 'content-length': '7' });
    expect(plain.expectedSize).toBe(7);
    expect(plain.decode).toBeUndefined();
    expect(
      putOptionsOf({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }).decode,
    ).toBeDefined();
  });
});

describe('small XML bodies', () => {
  const request = (chunks: string[], end: 'end' | 'abort') => {
    const req = Object.assign(new Readable({ read: () => undefined }), { headers: {} });
    for (const c of chunks) req.push(c);
    if (end === 'end') req.push(null);
    // What node:http does when the client's socket closes mid-body.
    else req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    return req as unknown as IncomingMessage;
  };

  it('reads the whole body', async () => {
    await expect(readXmlBody(request(['<Delete>', '</Delete>'], 'end'))).resolves.toBe('<Delete></Delete>');
  });

  it("a client gone mid-body is the client's IncompleteBody, not the server's fault", async () => {
    await expect(readXmlBody(request(['<Delete><Obj'], 'abort'))).rejects.toMatchObject({
      name: 'IncompleteBody',
      code: 'IncompleteBody',
    });
  });
});
