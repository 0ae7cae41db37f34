/** What every operation handler works with: the store, its multipart uploads, and the emitter of
 * change events. */
import type { IncomingMessage } from 'node:http';
import type { MultipartUploads } from '../multipart-uploads.js';
import type { FileObjectStore } from '../store.js';
import type { EmitEvent } from './events.js';
import type { Route } from './request.js';

/** Throws S3's AccessDenied when the caller may not make the request (infra/local/iam/s3-auth.ts). */
export type Authorize = (req: IncomingMessage, route: Route, store: FileObjectStore) => Promise<void>;

export interface S3Context {
  store: FileObjectStore;
  uploads: MultipartUploads;
  emit: EmitEvent;
  /** IAM (local mode); unset: every request is allowed. */
  authorize?: Authorize;
  /** Buckets no request may delete (the local stack's own: its functions write to them). */
  protectedBuckets?: ReadonlySet<string>;
}
