/**
 * The changes the server reports (what S3 sends as event notifications): one event per change,
 * in order, after the answer is written. A listener's error is the listener's, never the request's.
 */
import type { ObjectMeta } from '../store.js';

export interface S3Event {
  eventName:
    | 'ObjectCreated:Put'
    | 'ObjectCreated:Copy'
    | 'ObjectCreated:CompleteMultipartUpload'
    | 'ObjectRemoved:Delete';
  bucket: string;
  key: string;
  size?: number;
  /** Without quotes, as event records carry it. */
  eTag?: string;
  sourceIp?: string;
}

export type EmitEvent = (event: S3Event) => void;

/** An emitter that calls `onEvent` and hands what it throws to `onError`. */
export function safeEmitter(
  onEvent: ((event: S3Event) => void) | undefined,
  onError: ((err: unknown) => void) | undefined,
): EmitEvent {
  return (event) => {
    try {
      onEvent?.(event);
    } catch (err) {
      onError?.(err);
    }
  };
}

/** The event of an object written by `eventName`, from its stored metadata. */
export function objectCreated(
  eventName: Extract<S3Event['eventName'], `ObjectCreated:${string}`>,
  bucket: string,
  key: string,
  meta: Pick<ObjectMeta, 'size' | 'etag'>,
  sourceIp: string | undefined,
): S3Event {
  return { eventName, bucket, key, size: meta.size, eTag: meta.etag.slice(1, -1), sourceIp };
}
