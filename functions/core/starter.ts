/**
 * The starter's decisions, pure: which records of an S3 event become executions, under which
 * name and with which input.
 */
import type { S3EventRecord, VideoObject } from './contracts.js';
import { decodeEventKey, executionName, isAllowedContentType, isVideoKey } from './layout.js';
import { normalizeEtag } from './upload-version.js';

export type RecordPlan =
  { action: 'start'; name: string; video: VideoObject } | { action: 'skip'; key: string; reason: string };

export interface StarterRules {
  inputBucket: string;
  extensions: readonly string[];
}

/** The checks an event and a stored object share: the input bucket, a video extension. */
function notAnInputVideo(bucket: string, key: string, rules: StarterRules): RecordPlan | undefined {
  if (bucket !== rules.inputBucket) {
    return { action: 'skip', key, reason: `bucket ${bucket} is not the input bucket ${rules.inputBucket}` };
  }
  if (!isVideoKey(key, rules.extensions)) {
    return {
      action: 'skip',
      key,
      reason: `not a video by its extension (accepted: ${rules.extensions.join(', ')})`,
    };
  }
  return undefined;
}

/** First pass, from the event alone (no S3 call): event type, bucket, extension. */
export function planRecord(record: S3EventRecord, rules: StarterRules): RecordPlan {
  let key: string;
  try {
    key = decodeEventKey(record.s3.object.key);
  } catch {
    return {
      action: 'skip',
      key: record.s3.object.key,
      reason: 'the key in the event is not valid URL encoding',
    };
  }
  const bucket = record.s3.bucket.name;
  if (!record.eventName.startsWith('ObjectCreated:')) {
    return { action: 'skip', key, reason: `event ${record.eventName} is not an upload` };
  }
  const notVideo = notAnInputVideo(bucket, key, rules);
  if (notVideo) return notVideo;
  const o = record.s3.object;
  const etag = normalizeEtag(o.eTag);
  // A fixed field order keeps the input identical for a redelivered event, which Step
  // Functions requires to treat StartExecution as idempotent.
  const video: VideoObject = {
    bucket,
    key,
    ...(o.size !== undefined ? { size: o.size } : {}),
    ...(etag ? { etag } : {}),
    ...(o.versionId ? { versionId: o.versionId } : {}),
    ...(o.sequencer ? { sequencer: o.sequencer } : {}),
    ...(record.eventTime ? { eventTime: record.eventTime } : {}),
  };
  return { action: 'start', name: executionName(video), video };
}

/** Second pass, with the object's content type (HeadObject). */
export function checkContentType(
  contentType: string | undefined,
  allowed: readonly string[],
): { ok: true } | { ok: false; reason: string } {
  return isAllowedContentType(contentType, allowed)
    ? { ok: true }
    : {
        ok: false,
        reason: `content type ${contentType} is not a video type (accepted: ${allowed.join(', ')})`,
      };
}

/** What HeadObject says of a stored object (reconcile: an upload whose event was lost). */
export interface StoredObject {
  size?: number;
  etag?: string;
  versionId?: string;
  contentType?: string;
}

/**
 * An object already in the input bucket -> the execution the starter would have started for it:
 * the same checks (extension, content type), input and naming. Without the event there is no
 * sequencer, so the name is that of "this version of this key", stable across reconciles.
 */
export function planStoredObject(
  bucket: string,
  key: string,
  stored: StoredObject,
  rules: StarterRules & { contentTypes: readonly string[] },
): RecordPlan {
  const notVideo = notAnInputVideo(bucket, key, rules);
  if (notVideo) return notVideo;
  const ct = checkContentType(stored.contentType, rules.contentTypes);
  if (!ct.ok) return { action: 'skip', key, reason: ct.reason };
  const etag = normalizeEtag(stored.etag);
  const video: VideoObject = {
    bucket,
    key,
    ...(stored.size !== undefined ? { size: stored.size } : {}),
    ...(etag ? { etag } : {}),
    ...(stored.versionId ? { versionId: stored.versionId } : {}),
  };
  return { action: 'start', name: executionName(video), video };
}
