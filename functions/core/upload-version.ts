/**
 * Newest upload wins: an execution may only write the result (or the error record) of the upload
 * it was started for while that upload is still the current object under its key. A newer upload
 * of the same key has its own execution; the older one's late write is dropped. Pure.
 */

/** Which version of an object: S3's version id (versioned buckets) and/or its ETag. */
export interface UploadVersion {
  etag?: string;
  versionId?: string;
}

export type Currency = { current: true } | { current: false; reason: string };

/**
 * S3 user metadata on an answer (`<stem>.txt`, the error record): the ETag of the upload it
 * answers. Reconcile reads it where an answer's date alone cannot tell: an older execution that
 * passed its currency check just before a re-upload writes just after it, and its answer, newer
 * than the re-upload, is still not the re-upload's (issue 21).
 */
export const ANSWERED_UPLOAD_META = 'facerec-upload-etag';

/** The metadata an answer of `upload` carries (none when the upload has no ETag). */
export function answerMetadata(upload: UploadVersion | undefined): Record<string, string> | undefined {
  const etag = normalizeEtag(upload?.etag);
  return etag ? { [ANSWERED_UPLOAD_META]: etag } : undefined;
}

/**
 * An answer written this long after an upload was checked after it: the result function checks
 * currency and writes within one invocation, and no Lambda invocation outlives 15 minutes. Only
 * answers within this window of their upload need their metadata read.
 */
export const LATE_ANSWER_WINDOW_MS = 15 * 60 * 1000;

/** ETags come quoted from HeadObject/GetObject and unquoted in S3 events. */
export function normalizeEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/"/g, '') || undefined;
}

/**
 * Is `upload` (from the execution input) the object now under its key (`now`, from HeadObject;
 * undefined when the key no longer exists)? Version ids are compared when both sides have one,
 * else ETags; an upload that carries neither cannot be told apart and counts as current.
 */
export function uploadIsCurrent(upload: UploadVersion, now: UploadVersion | undefined): Currency {
  if (!upload.versionId && !normalizeEtag(upload.etag)) return { current: true };
  if (!now) return { current: false, reason: 'the upload no longer exists (deleted since)' };
  if (upload.versionId && now.versionId) {
    return upload.versionId === now.versionId
      ? { current: true }
      : {
          current: false,
          reason: `a newer upload replaced it (version ${upload.versionId}, now ${now.versionId})`,
        };
  }
  const mine = normalizeEtag(upload.etag);
  const theirs = normalizeEtag(now.etag);
  if (!mine || !theirs || mine === theirs) return { current: true };
  return { current: false, reason: `a newer upload replaced it (ETag ${mine}, now ${theirs})` };
}
