/** The refusals made before any operation runs, without a server. */
import {
  isLoopbackAddress,
  isLoopbackHost,
  refuseForeignHost,
  refuseUnsupportedSubresource,
} from '#infra/local/s3/api/guards.js';
import { parseQuery } from '#infra/local/s3/api/request.js';
import { codeOf } from './codes.js';

describe('request guards', () => {
  it('loopback Host names, with or without a port; a missing Host (HTTP/1.0) passes', () => {
    for (const host of [
      'localhost',
      'localhost:4566',
      '127.0.0.1:9000',
      '127.1.2.3',
      '[::1]:80',
      '[::1]',
      's3.localhost',
      undefined,
      '',
    ]) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of [
      'evil.example',
      'evil.example:80',
      '127.0.0.1.nip.io',
      'localhost.evil.example',
      '10.0.0.1',
      '[::2]:80',
      '0.0.0.0',
    ]) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });

  it('a server on a loopback address serves loopback names only (DNS rebinding)', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
    expect(codeOf(() => refuseForeignHost(true, 'rebound.example:4566'))).toBe('AccessDenied');
    expect(codeOf(() => refuseForeignHost(true, 'localhost:4566'))).toBe('none');
    expect(codeOf(() => refuseForeignHost(false, 'rebound.example'))).toBe('none');
  });

  it('sub-resources not implemented are NotImplemented, not a plain GET or PUT', () => {
    expect(codeOf(() => refuseUnsupportedSubresource(parseQuery('acl')))).toBe('NotImplemented');
    expect(codeOf(() => refuseUnsupportedSubresource(parseQuery('prefix=a&tagging=')))).toBe(
      'NotImplemented',
    );
    expect(codeOf(() => refuseUnsupportedSubresource(parseQuery('list-type=2&prefix=acl')))).toBe('none');
  });
});
