/**
 * The one place a request is answered from: its route is read, the guards run, the operation is
 * dispatched, and whatever is thrown becomes S3's XML error (reported when it is the server's
 * fault). Nothing a request sends ends the process: a broken socket ends that request only.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Context } from './context.js';
import { classifyFailure } from './errors.js';
import { refuseForeignHost } from './guards.js';
import { sendError } from './reply.js';
import { dispatch } from './router.js';
import { parseRoute, type Route } from './request.js';

const requestId = () => randomBytes(8).toString('hex').toUpperCase();

export interface BoundaryOptions {
  /** Serve loopback host names only (the server listens on a loopback address). */
  loopbackOnly: boolean;
  /** Called with what went wrong inside the server (a bug, never a client's mistake). */
  onInternalError?: (err: unknown) => void;
}

/** The request listener of the server: every request answered, every failure contained. */
export function serveRequests(
  ctx: S3Context,
  opts: BoundaryOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.setHeader('x-amz-request-id', requestId());
    res.setHeader('Server', 'facerec-local-s3');
    // Aborted uploads and broken sockets are that request's end, never the process's.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    // The route is read once: its bucket and key also name the resource in an error answer.
    let route: Route | undefined;
    let badRoute: unknown;
    try {
      route = parseRoute(req.method, req.url);
    } catch (err) {
      badRoute = err;
    }
    const handle = async () => {
      refuseForeignHost(opts.loopbackOnly, req.headers.host);
      if (!route) throw badRoute;
      await dispatch(ctx, req, res, route);
    };
    handle()
      .catch((err: unknown) => {
        const { error, internal } = classifyFailure(err);
        if (internal) opts.onInternalError?.(err);
        sendError(req, res, error, route);
      })
      .catch(() => res.destroy());
  };
}
