/**
 * S3's error answers: the errors several operations share, the `<Error>` document, and which
 * failures are a fault of the server (reported) rather than of the request.
 */
import { S3Error } from '../store.js';
import { el } from './xml.js';

export const methodNotAllowed = (): S3Error =>
  new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.');

export const noSuchBucket = (bucket: string): S3Error =>
  new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket });

export const malformedXml = (): S3Error =>
  new S3Error(
    'MalformedXML',
    400,
    'The XML you provided was not well-formed or did not validate against our published schema',
  );

export const preconditionFailed = (detail?: Record<string, string>): S3Error =>
  new S3Error(
    'PreconditionFailed',
    412,
    'At least one of the pre-conditions you specified did not hold',
    detail,
  );

export const internalError = (): S3Error =>
  new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.');

export function notImplemented(what: string): S3Error {
  return new S3Error(
    'NotImplemented',
    501,
    `A header or query you provided implies functionality that is not implemented (${what}).`,
  );
}

/** The `<Error>` document: the code, message, the request's key and bucket (clipped) and detail. */
export function errorXml(err: S3Error, requestId: string, route?: { bucket?: string; key?: string }): string {
  const detail = Object.entries(err.detail)
    .filter(([k]) => k !== 'Key' && k !== 'BucketName')
    .map(([k, v]) => el(k, v))
    .join('');
  return (
    `<Error>${el('Code', err.code)}${el('Message', err.message)}` +
    `${route?.key !== undefined ? el('Key', route.key.slice(0, 2048)) : ''}` +
    `${route?.bucket !== undefined ? el('BucketName', route.bucket.slice(0, 256)) : ''}` +
    `${detail}${el('RequestId', requestId)}</Error>`
  );
}

/**
 * What to answer for anything a request's handling threw: S3's own errors as they are; a full disk
 * as an InternalError that says so (the machine's state, not a bug); anything else as an
 * InternalError that is also reported (`internal`: a fault of the server).
 */
export function classifyFailure(err: unknown): { error: S3Error; internal: boolean } {
  if (err instanceof S3Error) return { error: err, internal: false };
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return { error: new S3Error('InternalError', 500, 'The local disk is full.'), internal: false };
  }
  return { error: internalError(), internal: true };
}
