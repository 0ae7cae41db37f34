/** S3's error documents and which failures are the server's own, without a server. */
import { classifyFailure, errorXml } from '#infra/local/s3/api/errors.js';
import { xmlValues } from '#infra/local/s3/api/xml.js';
import { S3Error } from '#infra/local/s3/store.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('S3 errors', () => {
  it("a request's own error is answered as it is and not reported", () => {
    const err = new S3Error('NoSuchKey', 404, 'The specified key does not exist.');
    expect(classifyFailure(err)).toEqual({ error: err, internal: false });
  });

  it('a full disk is an InternalError that says so, not a bug report', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const { error, internal } = classifyFailure(errno(code));
      expect([error.code, error.status, error.message, internal]).toEqual([
        'InternalError',
        500,
        'The local disk is full.',
        false,
      ]);
    }
  });

  it('anything else is a reported InternalError that tells the client nothing of the inside', () => {
    for (const err of [
      errno('ENAMETOOLONG'),
      errno('ENOENT'),
      new TypeError('x is undefined'),
      'a string',
      undefined,
    ]) {
      const { error, internal } = classifyFailure(err);
      expect([error.code, error.status, internal]).toEqual(['InternalError', 500, true]);
      expect(error.message).toBe('We encountered an internal error. Please try again.');
    }
  });

  it('the <Error> document names the resource (clipped) once, with the detail and request id', () => {
    const err = new S3Error('KeyTooLongError', 400, 'Your key is too long', {
      Size: '5000',
      Key: 'not repeated',
      BucketName: 'not repeated',
    });
    const xml = errorXml(err, 'REQ1', { bucket: 'b'.repeat(300), key: `<${'k'.repeat(5000)}` });
    expect(xmlValues(xml, 'Code')).toEqual(['KeyTooLongError']);
    expect(xmlValues(xml, 'Key')[0]).toHaveLength(2048);
    expect(xmlValues(xml, 'Key')[0].startsWith('<k')).toBe(true);
    expect(xmlValues(xml, 'BucketName')).toEqual(['b'.repeat(256)]);
    expect(xmlValues(xml, 'Size')).toEqual(['5000']);
    expect(xmlValues(xml, 'RequestId')).toEqual(['REQ1']);
    expect(errorXml(err, 'R')).not.toContain('<Key>');
  });
});
