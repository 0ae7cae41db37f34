/**
 * Refusals made before any operation runs: requests for another host name on a loopback server
 * (DNS rebinding), browser form uploads, CORS preflights, and S3 sub-resources this server does
 * not implement (answered NotImplemented rather than mistaken for a plain GET/PUT).
 */
import { S3Error } from '../store.js';
import { notImplemented } from './errors.js';

const LOOPBACK_NAMES = /^(?:localhost|[a-z0-9-]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** Is the address a server listens on a loopback one (so that only loopback names may reach it)? */
export function isLoopbackAddress(host: string): boolean {
  return LOOPBACK_NAMES.test(host) || host === '::1';
}

/** Is a Host header (`name[:port]`) a loopback name? A missing header (HTTP/1.0) passes. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return true;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return LOOPBACK_NAMES.test(name);
}

/**
 * DNS rebinding: a web page whose name resolves to 127.0.0.1 would otherwise reach this server as
 * its own origin. On a loopback address, only loopback names are served.
 */
export function refuseForeignHost(loopbackOnly: boolean, host: string | undefined): void {
  if (loopbackOnly && !isLoopbackHost(host)) {
    throw new S3Error(
      'AccessDenied',
      403,
      'This local S3 server answers requests for 127.0.0.1, ::1 and localhost only.',
    );
  }
}

/** Local mode has no credentials: an unauthenticated POST that any web page could send is refused. */
export const formPostRefused = (): S3Error =>
  new S3Error(
    'AccessDenied',
    403,
    'Browser-based (form POST) uploads are not accepted by the local S3 server: it has no credentials to check them.',
  );

export const corsRefused = (): S3Error =>
  new S3Error('CORSResponse', 403, 'CORS is not enabled for this bucket.');

/** Sub-resources of the S3 API this server does not implement. */
const UNSUPPORTED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'acl',
  'policy',
  'cors',
  'lifecycle',
  'notification',
  'tagging',
  'website',
  'logging',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'versions',
  'attributes',
  'accelerate',
  'requestPayment',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
  'intelligent-tiering',
]);

/** NotImplemented for the first unsupported sub-resource a query names. */
export function refuseUnsupportedSubresource(query: Map<string, string>): void {
  const unsupported = [...query.keys()].find((k) => UNSUPPORTED_SUBRESOURCES.has(k));
  if (unsupported) throw notImplemented(unsupported);
}
