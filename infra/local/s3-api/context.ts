/** What every operation handler works with: the store, and the emitter of change events. */
import type { FileObjectStore } from '../s3-store.js';
import type { EmitEvent } from './events.js';

export interface S3Context {
  store: FileObjectStore;
  emit: EmitEvent;
  /** Buckets no request may delete (the local stack's own: its functions write to them). */
  protectedBuckets?: ReadonlySet<string>;
}
