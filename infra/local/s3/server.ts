/**
 * A small S3-compatible HTTP server over FileObjectStore: the subset of the S3 REST API that the
 * pipeline, the AWS SDK and the AWS CLI use, with path-style addressing (buckets, objects,
 * listings v1 and v2, copies, batch deletes, multipart uploads, ranges, conditional requests).
 *
 * This module only wires the parts in api/: the error boundary every request runs in
 * (error-boundary.ts: host guard, route, dispatch, S3's XML errors), the router (router.ts) and
 * one module per operation group (objects, copy, batch-delete, listing, buckets, multipart).
 * Nothing a request sends can end the process: socket and parse errors close only that
 * connection, and keys are never paths (see store.ts). Local mode has no credentials, so
 * browser form uploads (unauthenticated POSTs any web page could send) are refused (guards.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveRequests } from './api/error-boundary.js';
import { safeEmitter, type S3Event } from './api/events.js';
import { isLoopbackAddress } from './api/guards.js';
import { MultipartUploads } from './multipart-uploads.js';
import type { FileObjectStore } from './store.js';
import type { Authorize } from './api/context.js';

export interface S3ServerOptions {
  host: string;
  port: number;
  store: FileObjectStore;
  /** Called after each change, in order. Errors thrown here are the caller's: they are caught. */
  onEvent?: (event: S3Event) => void;
  /** Called with what went wrong inside the server (a bug, never a client's mistake). */
  onInternalError?: (err: unknown) => void;
  /** IAM: throws AccessDenied for a request its caller may not make (local mode). */
  authorize?: Authorize;
  /** Buckets that no request may delete. */
  protectedBuckets?: readonly string[];
}

export interface RunningS3Server {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Long enough for a multi-gigabyte upload on a slow link; a stalled request still ends. */
const REQUEST_TIMEOUT_MS = 60 * 60 * 1000;

export function startS3Server(opts: S3ServerOptions): Promise<RunningS3Server> {
  const ctx = {
    store: opts.store,
    uploads: new MultipartUploads(opts.store),
    emit: safeEmitter(opts.onEvent, opts.onInternalError),
    authorize: opts.authorize,
    protectedBuckets: new Set(opts.protectedBuckets ?? []),
  };
  const server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS },
    serveRequests(ctx, { loopbackOnly: isLoopbackAddress(opts.host), onInternalError: opts.onInternalError }),
  );
  // Malformed HTTP, oversized headers, resets: close that connection only.
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      server.on('error', (err) => opts.onInternalError?.(err));
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${opts.host}:${port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
