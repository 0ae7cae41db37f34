/**
 * The request bodies and headers operations read, without a server: batch delete
 * (batch-delete.ts), complete multipart upload (multipart.ts) and the copy source (copy.ts).
 */
import { MAX_DELETE_KEYS, parseDeleteRequest } from '#infra/local/s3/api/batch-delete.js';
import { parseCopySource } from '#infra/local/s3/api/copy.js';
import { parseCompleteRequest } from '#infra/local/s3/api/multipart.js';
import { el } from '#infra/local/s3/api/xml.js';
import { codeOf } from './codes.js';

const deleteBody = (keys: string[], quiet = '') =>
  `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${quiet}${keys.map((k) => `<Object>${el('Key', k)}</Object>`).join('')}</Delete>`;

describe('batch delete requests', () => {
  it('reads the keys (escaped ones too) and Quiet', () => {
    expect(parseDeleteRequest(deleteBody(['a', '../b', '<&>']))).toEqual({
      keys: ['a', '../b', '<&>'],
      quiet: false,
    });
    expect(parseDeleteRequest(deleteBody(['a'], '<Quiet> TRUE </Quiet>')).quiet).toBe(true);
  });

  it(`is MalformedXML without <Delete>, without objects, with a keyless object, or past ${MAX_DELETE_KEYS} keys`, () => {
    expect(codeOf(() => parseDeleteRequest('<Other><Object><Key>a</Key></Object></Other>'))).toBe(
      'MalformedXML',
    );
    expect(codeOf(() => parseDeleteRequest(deleteBody([])))).toBe('MalformedXML');
    expect(
      codeOf(() => parseDeleteRequest('<Delete><Object><VersionId>1</VersionId></Object></Delete>')),
    ).toBe('MalformedXML');
    const many = Array.from({ length: MAX_DELETE_KEYS + 1 }, (_, i) => `k${i}`);
    expect(codeOf(() => parseDeleteRequest(deleteBody(many)))).toBe('MalformedXML');
    expect(parseDeleteRequest(deleteBody(many.slice(1))).keys).toHaveLength(MAX_DELETE_KEYS);
  });
});

describe('complete multipart upload requests', () => {
  it('reads the parts in document order, ETags trimmed', () => {
    const body =
      '<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag> "b" </ETag></Part>' +
      '<Part><ETag>&quot;a&quot;</ETag><PartNumber>1</PartNumber></Part><Part></Part></CompleteMultipartUpload>';
    expect(parseCompleteRequest(body)).toEqual([
      { partNumber: 2, etag: '"b"' },
      { partNumber: 1, etag: '"a"' },
      { partNumber: NaN, etag: '' },
    ]);
    expect(parseCompleteRequest('<CompleteMultipartUpload/>')).toEqual([]);
  });
});

describe('hostile request bodies', () => {
  it('reads no element inside a comment', () => {
    const hidden = '<!--<Object><Key>hidden</Key></Object>-->';
    expect(parseDeleteRequest(`<Delete>${hidden}<Object><Key>k<!-- x -->2</Key></Object></Delete>`)).toEqual({
      keys: ['k2'],
      quiet: false,
    });
    expect(codeOf(() => parseDeleteRequest(`<Delete>${hidden}</Delete>`))).toBe('MalformedXML');
    expect(
      parseCompleteRequest(
        '<CompleteMultipartUpload><!--<Part><PartNumber>9</PartNumber></Part>--><Part><PartNumber>1</PartNumber>' +
          '<ETag>"a"</ETag></Part></CompleteMultipartUpload>',
      ),
    ).toEqual([{ partNumber: 1, etag: '"a"' }]);
  });

  // Elements hidden in a comment, each of which a pattern like <Part>[\s\S]*?</Part> searched from
  // again to the end of the body: at the 4 MB body limit that took ~15 minutes of the server's one
  // thread, every other request waiting (0.48 MB: 11.9 s). Parsed in one pass it takes milliseconds;
  // the bound is ~500 times that, so that a loaded machine cannot fail it and the old code could not
  // pass it.
  it('answers 4 MB of commented-out or unclosed elements in one pass', () => {
    const n = 650_000;
    const parts = '<Part>'.repeat(n);
    const started = performance.now();
    expect(
      parseCompleteRequest(`<CompleteMultipartUpload><!--${parts}--></CompleteMultipartUpload>`),
    ).toEqual([]);
    expect(
      codeOf(() => parseCompleteRequest(`<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`)),
    ).toBe('MalformedXML');
    const objects = '<Object>'.repeat(n * 0.75);
    expect(codeOf(() => parseDeleteRequest(`<Delete><!--${objects}--></Delete>`))).toBe('MalformedXML');
    expect(codeOf(() => parseDeleteRequest(`<Delete>${objects}<Object><Key>k</Key></Object></Delete>`))).toBe(
      'MalformedXML',
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses a document nested deeper than any S3 request', () => {
    const deep = (d: number) => `${'<a>'.repeat(d)}${'</a>'.repeat(d)}`;
    expect(parseCompleteRequest(`<CompleteMultipartUpload>${deep(31)}</CompleteMultipartUpload>`)).toEqual(
      [],
    );
    expect(
      codeOf(() => parseCompleteRequest(`<CompleteMultipartUpload>${deep(32)}</CompleteMultipartUpload>`)),
    ).toBe('MalformedXML');
  });
});

describe('copy sources', () => {
  it('bucket and percent-decoded key, with or without the leading slash; the version is ignored', () => {
    expect(parseCopySource('/bkt/a%20b/..%2fc.mp4')).toEqual({ bucket: 'bkt', key: 'a b/../c.mp4' });
    expect(parseCopySource('bkt/k?versionId=null')).toEqual({ bucket: 'bkt', key: 'k' });
  });

  it('InvalidArgument without a bucket and key; the key rules apply', () => {
    expect(codeOf(() => parseCopySource('bkt'))).toBe('InvalidArgument');
    expect(codeOf(() => parseCopySource('/k'))).toBe('InvalidArgument');
    expect(codeOf(() => parseCopySource('bkt/'))).toBe('InvalidArgument'); // empty key
    expect(codeOf(() => parseCopySource(`bkt/${'k'.repeat(1025)}`))).toBe('KeyTooLongError');
    expect(codeOf(() => parseCopySource('bkt/%zz'))).toBe('InvalidURI');
  });
});
