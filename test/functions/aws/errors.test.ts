import { isNotFound } from '#functions/aws/errors.js';
import { awsError } from '#test/support/lambda.js';

describe('isNotFound: the one test for "S3 has no such object"', () => {
  test('GetObject NoSuchKey, HeadObject NotFound, NoSuchVersion and any 404 are not found', () => {
    expect(isNotFound(awsError('NoSuchKey', 404))).toBe(true);
    expect(isNotFound(awsError('NotFound', 404))).toBe(true);
    expect(isNotFound(awsError('NoSuchVersion', 404))).toBe(true);
    // A HeadObject answer has no body: some clients leave only the status.
    expect(isNotFound(awsError('Unknown', 404))).toBe(true);
  });
  test('a 403 (denied, or missing to a caller without ListBucket), throttling and non-errors are not', () => {
    expect(isNotFound(awsError('AccessDenied', 403))).toBe(false);
    expect(isNotFound(awsError('Forbidden', 403))).toBe(false);
    expect(isNotFound(awsError('SlowDown', 503))).toBe(false);
    expect(isNotFound(new Error('boom'))).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
    expect(isNotFound('NoSuchKey')).toBe(false);
  });
});
